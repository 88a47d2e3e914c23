"""Access tokens (EdDSA JWT, ~15 min) and rotating refresh tokens with reuse detection."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from datetime import timedelta

import jwt
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.auth import AUDIENCE, ISSUER
from services.common.db import utcnow
from services.common.ids import new_id
from services.identity.accounts.models import Account
from services.identity.keys import SigningKeys
from services.identity.tokens import repository
from services.identity.tokens.errors import RefreshTokenInvalid, RefreshTokenReused
from services.identity.tokens.models import RefreshToken
from services.identity.tokens.schemas import TokenPair


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def mint_access_token(*, account: Account, keys: SigningKeys, ttl: int, family_id: str) -> str:
    kid, key = keys.current
    now = int(time.time())
    claims = {
        "iss": ISSUER, "aud": AUDIENCE, "sub": account.id, "iat": now, "exp": now + ttl,
        "typ": "access", "sid": family_id, "roles": list(account.roles or []),
        "org": account.org_id, "phm": account.phone_masked,
    }
    return jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": kid})


async def issue_pair(*, session: AsyncSession, account: Account, keys: SigningKeys, access_ttl: int,
                     refresh_ttl: int, family_id: str | None = None) -> TokenPair:
    family_id = family_id or new_id()
    secret = secrets.token_urlsafe(32)
    link = RefreshToken(id=new_id(), family_id=family_id, account_id=account.id, secret_hash=_hash(secret),
                        expires_at=utcnow() + timedelta(seconds=refresh_ttl))
    await repository.add(session, link)
    return TokenPair(
        access_token=mint_access_token(account=account, keys=keys, ttl=access_ttl, family_id=family_id),
        refresh_token=f"{link.id}.{secret}", expires_in=access_ttl, account_id=account.id,
    )


async def spend(*, session: AsyncSession, raw: str) -> RefreshToken:
    """Spend a refresh token for rotation. A token already spent or revoked is reuse: the whole
    family dies (committed even though the request fails) and the caller gets 401."""
    token_id, _, secret = raw.partition(".")
    link = await repository.get(session, token_id) if token_id and secret else None
    if link is None or not hmac.compare_digest(link.secret_hash, _hash(secret)):
        raise RefreshTokenInvalid
    now = utcnow()
    if link.used_at is not None or link.revoked_at is not None or not await repository.mark_used(session, link.id, now):
        await repository.revoke_family(session, link.family_id, now)
        await session.commit()
        raise RefreshTokenReused
    if link.expires_at <= now:
        raise RefreshTokenInvalid
    return link


async def revoke_by_token(*, session: AsyncSession, raw: str) -> None:
    token_id, _, secret = raw.partition(".")
    link = await repository.get(session, token_id) if token_id and secret else None
    if link is not None and hmac.compare_digest(link.secret_hash, _hash(secret)):
        await repository.revoke_family(session, link.family_id, utcnow())
