"""Single-use nonces within the signature window. Default: a database table (every replica of
this service shares its database); with REDIS_URL: Redis SET NX EX. The in-process memory store
is never used here, because it would let a replay through on another process."""

from __future__ import annotations

import asyncio
import contextlib
import random
from datetime import timedelta
from typing import Protocol

from services.benefits.merchant_api import repository
from services.benefits.sessions import transaction
from services.common.db import Database, utcnow
from services.common.kv import KeyValueStore


class NonceStore(Protocol):
    async def claim(self, key_id: str, nonce: str, ttl: int) -> bool:
        """True the first time (key_id, nonce) is seen within ttl seconds."""
        ...


class DatabaseNonceStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        # SQLite has one writer at a time and a waiting writer polls with growing sleeps (busy
        # timeout), which under concurrency costs far more than waiting in line. Queue this
        # process's nonce writes instead. Not a correctness device: the primary key decides.
        self._queue: asyncio.Lock | contextlib.nullcontext[None] = (
            asyncio.Lock() if db.dialect == "sqlite" else contextlib.nullcontext())

    async def claim(self, key_id: str, nonce: str, ttl: int) -> bool:
        async with self._queue:
            return await self._claim(key_id, nonce, ttl)

    async def _claim(self, key_id: str, nonce: str, ttl: int) -> bool:
        now = utcnow()
        async with transaction(self._db, write=True) as session:
            claimed = await repository.claim_nonce(session, key_id=key_id, nonce=nonce, now=now,
                                                   expires_at=now + timedelta(seconds=ttl))
            if random.random() < 0.002:  # keep the table at about one window of traffic
                await repository.sweep_nonces(session, now)
            await session.commit()
        return claimed


class RedisNonceStore:
    def __init__(self, kv: KeyValueStore) -> None:
        self._kv = kv

    async def claim(self, key_id: str, nonce: str, ttl: int) -> bool:
        return await self._kv.set_once(f"nonce:{key_id}:{nonce}", ttl)
