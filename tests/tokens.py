"""Access tokens for testing one service alone: signed by a test key with the same claims the
identity service puts in real tokens, and a verifier that trusts that key."""

from __future__ import annotations

import time

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.common.auth import AUDIENCE, ISSUER, TokenVerifier
from services.common.ids import new_id


class TokenFactory:
    def __init__(self) -> None:
        self._key = Ed25519PrivateKey.generate()
        self.kid = "test-key"

    def jwks(self) -> dict:
        jwk = jwt.algorithms.OKPAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        return {"keys": [{**jwk, "kid": self.kid, "alg": "EdDSA", "use": "sig"}]}

    def verifier(self) -> TokenVerifier:
        return TokenVerifier(jwks=self.jwks())

    def token(self, account_id: str | None = None, *, roles: list[str] | tuple[str, ...] = (),
              org_id: str | None = None, phone_masked: str | None = "138****0000", ttl: int = 900) -> str:
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": account_id or new_id(), "iat": now, "exp": now + ttl,
                  "typ": "access", "sid": new_id(), "roles": list(roles), "org": org_id, "phm": phone_masked}
        return jwt.encode(claims, self._key, algorithm="EdDSA", headers={"kid": self.kid})

    def headers(self, account_id: str | None = None, **kwargs: object) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token(account_id, **kwargs)}"}  # type: ignore[arg-type]
