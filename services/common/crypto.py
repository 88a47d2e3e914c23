"""Personal data at rest: AES-256-GCM with a key id beside every value, plus a keyed hash.

Stored form: "<kid>.<base64url(nonce || ciphertext || tag)>". Decryption picks the key by kid,
so keys rotate by adding a new first key (new writes) and keeping the old ones (old reads).
The keyed hash (HMAC-SHA256 under a lookup key that does not change when encryption keys
rotate) lets us enforce uniqueness and look values up without decrypting anything.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PiiCipher:
    def __init__(self, keys: list[tuple[str, bytes]], lookup_key: bytes) -> None:
        if not keys:
            raise ValueError("at least one key")
        for kid, key in keys:
            if len(key) != 32 or "." in kid:
                raise ValueError("PII keys are 32 bytes with a kid without dots")
        self._current_kid = keys[0][0]
        self._aead = {kid: AESGCM(key) for kid, key in keys}
        self._lookup_key = lookup_key

    @classmethod
    def from_spec(cls, spec: str) -> PiiCipher:
        """spec = "kid:base64key,kid:base64key"; the HMAC lookup key is derived from the last
        (oldest) key so that adding a new encryption key does not change any lookup hash."""
        pairs = []
        for item in spec.split(","):
            kid, _, b64 = item.strip().partition(":")
            pairs.append((kid, _b64d(b64)))
        lookup = hashlib.sha256(b"smartunion-lookup|" + pairs[-1][1]).digest()
        return cls(pairs, lookup)

    @classmethod
    def from_data_dir(cls, path: Path) -> PiiCipher:
        if not path.exists():
            path.write_text(f"k1:{_b64e(secrets.token_bytes(32))}")
            path.chmod(0o600)
        return cls.from_spec(path.read_text().strip())

    def encrypt(self, plaintext: str, *, context: str = "") -> str:
        nonce = os.urandom(12)
        ct = self._aead[self._current_kid].encrypt(nonce, plaintext.encode(), context.encode() or None)
        return f"{self._current_kid}.{_b64e(nonce + ct)}"

    def decrypt(self, stored: str, *, context: str = "") -> str:
        kid, _, blob = stored.partition(".")
        raw = _b64d(blob)
        return self._aead[kid].decrypt(raw[:12], raw[12:], context.encode() or None).decode()

    def lookup_hash(self, value: str) -> str:
        return hmac.new(self._lookup_key, value.encode(), hashlib.sha256).hexdigest()


def generate_key_spec(kid: str = "k1") -> str:
    return f"{kid}:{_b64e(secrets.token_bytes(32))}"


def load_pii_cipher(spec: str | None, key_file: Path) -> PiiCipher:
    """From SMARTUNION_PII_KEYS when set (production), else a per-service key file generated
    into the data dir on first start."""
    return PiiCipher.from_spec(spec) if spec else PiiCipher.from_data_dir(key_file)
