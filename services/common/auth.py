"""Access-token verification, done locally in every service (and again at the gateway).

Tokens are EdDSA-signed JWTs from the identity service; its public keys come from JWKS,
cached, and refetched when a token names a `kid` we have not seen (key rotation) — at most
once every few seconds so that garbage tokens cannot make us hammer identity.
Closed accounts are revoked through a small list polled from identity, so their still-valid
access tokens die within about a second everywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import Annotated, Any

import httpx
import jwt
from fastapi import Depends, Request

from services.common.errors import Forbidden, Unauthenticated
from services.common.tasks import cancel

logger = logging.getLogger("smartunion.auth")

ISSUER = "smartunion-identity"
AUDIENCE = "smartunion"
ALGORITHMS = ["EdDSA"]
ROLES = ("admin", "staff", "lawyer", "employer")


@dataclass(frozen=True, slots=True)
class Principal:
    account_id: str
    roles: frozenset[str]
    org_id: str | None
    phone_masked: str | None
    token: str = field(repr=False, default="")

    @property
    def phone_bound(self) -> bool:
        return self.phone_masked is not None

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles


class TokenVerifier:
    def __init__(self, jwks_url: str | None = None, *, jwks: dict[str, Any] | None = None,
                 revocations_url: str | None = None, client: httpx.AsyncClient | None = None) -> None:
        self.jwks_url = jwks_url
        self.revocations_url = revocations_url
        self._client = client
        self._keys: dict[str, Any] = {}
        self._last_fetch = 0.0
        self._lock = asyncio.Lock()
        self._revoked: dict[str, float] = {}  # account id → revoked at (unix seconds)
        self._revocation_cursor = 0
        self._poller: asyncio.Task[None] | None = None
        # Verified tokens → (principal, iat, exp). A client sends the same token for its whole
        # life, and a full check (parse + EdDSA) costs ~0.3 ms; a hit costs a dict lookup. Only the
        # exact token string hits, so a tampered token is always checked in full; expiry and
        # revocation are checked again on every hit.
        self._verified: dict[str, tuple[Principal, int, int]] = {}
        if jwks:
            self._load(jwks)

    def _load(self, jwks: dict[str, Any]) -> None:
        keys = {}
        for jwk in jwks.get("keys", []):
            with contextlib.suppress(jwt.PyJWKError, KeyError):
                keys[jwk["kid"]] = jwt.PyJWK(jwk).key
        self._keys.update(keys)

    async def _refresh(self) -> None:
        if not self.jwks_url or self._client is None:
            return
        async with self._lock:
            if time.monotonic() - self._last_fetch < 5:
                return
            self._last_fetch = time.monotonic()
            try:
                resp = await self._client.get(self.jwks_url, timeout=2)
                resp.raise_for_status()
                self._load(resp.json())
            except (httpx.HTTPError, ValueError) as exc:
                logger.warning("jwks fetch failed: %s", type(exc).__name__)

    async def verify(self, token: str) -> Principal:
        hit = self._verified.get(token)
        if hit is not None:
            principal, iat, exp = hit
            if exp > time.time():
                revoked_at = self._revoked.get(principal.account_id)
                if revoked_at is not None and iat <= revoked_at:
                    raise Unauthenticated("账号已注销")
                return principal
            del self._verified[token]
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthenticated("访问令牌无效") from None
        kid = header.get("kid")
        if header.get("alg") not in ALGORITHMS or not isinstance(kid, str):
            raise Unauthenticated("访问令牌无效")
        if kid not in self._keys:
            await self._refresh()
        key = self._keys.get(kid)
        if key is None:
            raise Unauthenticated("访问令牌无效")
        try:
            claims = jwt.decode(token, key, algorithms=ALGORITHMS, audience=AUDIENCE, issuer=ISSUER,
                                options={"require": ["exp", "iat", "sub"]})
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("访问令牌已过期") from None
        except jwt.PyJWTError:
            raise Unauthenticated("访问令牌无效") from None
        if claims.get("typ") != "access":
            raise Unauthenticated("访问令牌无效")
        sub = str(claims["sub"])
        revoked_at = self._revoked.get(sub)
        if revoked_at is not None and claims["iat"] <= revoked_at:
            raise Unauthenticated("账号已注销")
        roles = claims.get("roles") or []
        principal = Principal(account_id=sub, roles=frozenset(r for r in roles if r in ROLES),
                              org_id=claims.get("org"), phone_masked=claims.get("phm"), token=token)
        if len(self._verified) >= 10_000:
            self._verified.pop(next(iter(self._verified)))
        self._verified[token] = (principal, int(claims["iat"]), int(claims["exp"]))
        return principal

    # -- revocations -----------------------------------------------------------------------------
    def revoke(self, account_id: str, at: float) -> None:
        self._revoked[account_id] = at

    async def poll_revocations_once(self) -> None:
        if not self.revocations_url or self._client is None:
            return
        resp = await self._client.get(self.revocations_url, params={"after": self._revocation_cursor},
                                      timeout=2)
        resp.raise_for_status()
        data = resp.json()
        for item in data["items"]:
            self.revoke(item["account_id"], item["revoked_at"])
        self._revocation_cursor = data["cursor"]
        # Access tokens live 15 minutes; older entries cannot match a live token.
        horizon = time.time() - 3600
        self._revoked = {k: v for k, v in self._revoked.items() if v > horizon}

    def start(self, interval: float = 1.0) -> None:
        if self.revocations_url and self._poller is None:
            self._poller = asyncio.create_task(self._poll_forever(interval))

    async def _poll_forever(self, interval: float) -> None:
        while True:
            try:
                await self.poll_revocations_once()
            except (httpx.HTTPError, ValueError, KeyError):
                pass  # identity restarting; the next poll catches up from the cursor
            await asyncio.sleep(interval)

    async def stop(self) -> None:
        await cancel(self._poller)
        self._poller = None


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def current_principal(request: Request) -> Principal:
    token = bearer_token(request)
    if token is None:
        raise Unauthenticated("需要登录")
    verifier: TokenVerifier = request.app.state.verifier
    return await verifier.verify(token)


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: str) -> Any:
    async def _dep(principal: PrincipalDep) -> Principal:
        if not principal.has(*roles):
            raise Forbidden("没有权限执行此操作")
        return principal

    return Depends(_dep)


def client_ip(request: Request) -> str:
    """The caller's address. Services listen on loopback behind the gateway, which overwrites
    X-Real-IP with the address it saw; anything else is the direct peer."""
    peer = request.client.host if request.client else "unknown"
    forwarded = request.headers.get("x-real-ip")
    return forwarded if forwarded and peer in ("127.0.0.1", "::1", "testclient") else peer
