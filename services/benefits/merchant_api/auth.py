"""Authentication of merchant requests by signature (no bearer token).

Order of checks: key known and not revoked → timestamp within ±window → nonce well-formed →
signature (constant-time) → nonce unused. The nonce is claimed only after the signature matched,
so a forger cannot burn a merchant's nonces.

A key's merchant and secret never change (rotation issues a new key id), so they are cached per
process once decrypted (KeyCache). Revocation is never cached: the nonce claim checks that the key
is live in the same statement (database) or script (Redis) that every replica shares, so a revoked
key fails on its next request everywhere (nonces.py). When a request signed with a cached key fails
an earlier check, the database is asked first, so that a revoked key is still reported as
unknown_merchant_key before any other error.
"""

from __future__ import annotations

import hmac
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import select
from starlette.types import Scope

from services.benefits.merchant_api.errors import NonceReused, SignatureInvalid, TimestampSkew, UnknownMerchantKey
from services.benefits.merchant_api.nonces import Claim, NonceStore, key_is_live
from services.benefits.merchant_api.signing import signature
from services.benefits.merchants.models import MerchantKey
from services.benefits.merchants.service import secret_context
from services.benefits.sessions import transaction
from services.common.crypto import PiiCipher
from services.common.db import Database

_NONCE_RE = re.compile(r"^[A-Za-z0-9._~:-]{16,64}$")
_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
_TS_RE = re.compile(r"^[0-9]{1,12}$")


@dataclass(frozen=True, slots=True)
class MerchantCaller:
    merchant_id: str
    key_id: str


def path_and_query(scope: Scope) -> str:
    """The request target as the client sent it (undecoded path, raw query string)."""
    raw = scope.get("raw_path")
    path = raw.split(b"?", 1)[0].decode("latin-1") if raw else scope["path"]
    qs = scope.get("query_string", b"")
    return f"{path}?{qs.decode('latin-1')}" if qs else path


@dataclass(frozen=True, slots=True)
class CachedKey:
    merchant_id: str
    secret: str


class KeyCache:
    """key id → (merchant id, decrypted secret): the immutable part of a key, bounded."""

    def __init__(self, max_size: int = 10_000) -> None:
        self._max = max_size
        self._keys: dict[str, CachedKey] = {}

    def get(self, key_id: str) -> CachedKey | None:
        return self._keys.get(key_id)

    def put(self, key_id: str, entry: CachedKey) -> None:
        if len(self._keys) >= self._max:
            self._keys.pop(next(iter(self._keys)))
        self._keys[key_id] = entry

    def discard(self, key_id: str) -> None:
        self._keys.pop(key_id, None)


async def _load_key(db: Database, key_id: str) -> tuple[str, str, bool] | None:
    async with transaction(db, write=False) as session:
        row = (await session.execute(select(MerchantKey.merchant_id, MerchantKey.secret_enc, MerchantKey.revoked_at)
                                     .where(MerchantKey.key_id == key_id))).first()
    if row is None:
        return None
    return row[0], row[1], row[2] is not None


async def _cached_key(state: Any, key_id: str) -> tuple[CachedKey, bool]:
    """The key's immutable part, and whether it came from the cache (not checked live just now)."""
    cache: KeyCache = state.merchant_keys
    entry = cache.get(key_id)
    if entry is not None:
        return entry, True
    found = await _load_key(state.db, key_id)
    if found is None or found[2]:
        raise UnknownMerchantKey
    merchant_id, secret_enc, _ = found
    cipher: PiiCipher = state.cipher
    entry = CachedKey(merchant_id=merchant_id, secret=cipher.decrypt(secret_enc, context=secret_context(key_id)))
    cache.put(key_id, entry)
    return entry, False


async def authenticate(request: Request) -> MerchantCaller:
    """The dependency of the merchant routes declared in FastAPI."""
    return await check_signed(request.app.state, request.scope, request.headers.get, request.body)


async def check_signed(state: Any, scope: Scope, header: Callable[[str], str | None],
                       body: Callable[[], Awaitable[bytes]]) -> MerchantCaller:
    """The signature rules for one request, also used by the plain ASGI verify route (fast.py).
    `header` looks up a request header by lower-case name; `body` gives the raw body (read only
    once the headers passed, as before)."""
    key_id = header("x-merchant-key") or ""
    if not _KEY_RE.match(key_id):
        raise UnknownMerchantKey
    key, cached = await _cached_key(state, key_id)
    try:
        timestamp = header("x-timestamp") or ""
        if not _TS_RE.match(timestamp) or abs(time.time() - int(timestamp)) > state.settings.signature_window:
            raise TimestampSkew
        nonce = header("x-nonce") or ""
        if not _NONCE_RE.match(nonce):
            raise SignatureInvalid("X-Nonce 需为 16–64 个字符（字母、数字、._~:-）")
        provided = header("x-signature") or ""
        if not provided:
            raise SignatureInvalid("缺少 X-Signature")
        expected = signature(key.secret, scope["method"], path_and_query(scope), timestamp, nonce, await body())
        if not hmac.compare_digest(expected.encode(), provided.encode("utf-8", "replace")):
            raise SignatureInvalid
    except (TimestampSkew, SignatureInvalid):
        if cached and not await key_is_live(state.db, key_id):
            raise UnknownMerchantKey from None
        raise

    nonces: NonceStore = state.nonces
    outcome = await nonces.claim(key_id, nonce, state.settings.nonce_ttl)
    if outcome is Claim.REVOKED:
        state.merchant_keys.discard(key_id)
        raise UnknownMerchantKey
    if outcome is Claim.REUSED:
        raise NonceReused
    return MerchantCaller(merchant_id=key.merchant_id, key_id=key_id)


MerchantDep = Annotated[MerchantCaller, Depends(authenticate)]
