"""The merchant request signature (CONTRACT §5), the one definition used by the server, the
tests, the demo and the benchmark:

    X-Signature = base64(HMAC-SHA256(secret, METHOD\\nPATH_AND_QUERY\\nTIMESTAMP\\nNONCE\\nSHA256_HEX(BODY)\\n))

The HMAC key is the secret string's UTF-8 bytes; PATH_AND_QUERY is the request target exactly as
sent (e.g. `/api/v1/merchant/redemptions?limit=20`); BODY is the raw body bytes (empty for GET).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time


def canonical_string(method: str, path_and_query: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    digest = hashlib.sha256(body).hexdigest()
    return f"{method.upper()}\n{path_and_query}\n{timestamp}\n{nonce}\n{digest}\n".encode()


def signature(secret: str, method: str, path_and_query: str, timestamp: str, nonce: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), canonical_string(method, path_and_query, timestamp, nonce, body), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def signed_headers(key_id: str, secret: str, method: str, path_and_query: str, body: bytes = b"", *,
                   timestamp: int | None = None, nonce: str | None = None) -> dict[str, str]:
    """Headers for one signed request (what a merchant's client does)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_hex(16)
    return {"X-Merchant-Key": key_id, "X-Timestamp": ts, "X-Nonce": nonce,
            "X-Signature": signature(secret, method, path_and_query, ts, nonce, body)}
