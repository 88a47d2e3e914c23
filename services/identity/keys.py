"""The Ed25519 keys that sign access tokens. The first key signs; all are published in JWKS so
tokens signed by a key being rotated out still verify until they expire."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class SigningKeys:
    def __init__(self, keys: list[Ed25519PrivateKey]) -> None:
        if not keys:
            raise ValueError("no signing key")
        self._keys = [(self._kid(k), k) for k in keys]

    @staticmethod
    def _kid(key: Ed25519PrivateKey) -> str:
        raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return hashlib.sha256(raw).hexdigest()[:16]

    @classmethod
    def from_pem_bundle(cls, bundle: str) -> SigningKeys:
        bundle = bundle.replace("\\n", "\n")  # one-line form from .env files
        blocks = [b.strip() for b in bundle.split("-----END PRIVATE KEY-----") if b.strip()]
        keys = []
        for block in blocks:
            key = serialization.load_pem_private_key((block + "\n-----END PRIVATE KEY-----\n").encode(), None)
            if not isinstance(key, Ed25519PrivateKey):
                raise ValueError("signing keys must be Ed25519")
            keys.append(key)
        return cls(keys)

    @classmethod
    def from_data_dir(cls, path: Path) -> SigningKeys:
        if not path.exists():
            pem = Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
            path.write_bytes(pem)
            path.chmod(0o600)
        return cls.from_pem_bundle(path.read_text())

    @property
    def current(self) -> tuple[str, Ed25519PrivateKey]:
        return self._keys[0]

    def jwks(self) -> dict[str, Any]:
        keys = []
        for kid, key in self._keys:
            raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            keys.append({"kty": "OKP", "crv": "Ed25519", "x": _b64(raw), "kid": kid, "alg": "EdDSA", "use": "sig"})
        return {"keys": keys}
