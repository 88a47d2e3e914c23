"""Idempotency-Key for POST /merchant/redemptions, scoped to the merchant.

The first request inserts a `pending` record (its own committed transaction; the unique
(merchant_id, key) constraint picks one winner among concurrent duplicates). The winner stores
its answer — success or a business error — in the same record; a duplicate with the same body
waits for that answer and replays it, one with another body gets 422 idempotency_key_mismatch.
A failure that says nothing about the request (503, crash) deletes the record so that the
merchant may retry with the same key.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

from services.benefits.merchant_api import repository
from services.benefits.merchant_api.errors import IdempotencyKeyInProgress, IdempotencyKeyMismatch
from services.benefits.sessions import transaction
from services.common.db import Database, utcnow
from services.common.ids import new_id

STALE_AFTER = 120.0  # seconds after which a pending record of a dead request may be run again


def fingerprint(method: str, path: str, body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{method}\n{path}\n{canonical}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    status: int
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Claim:
    record_id: str | None  # set when this request must run
    replay: StoredAnswer | None  # set when an earlier identical request already answered


async def claim(db: Database, *, merchant_id: str, key: str, fp: str, wait: float) -> Claim:
    deadline = time.monotonic() + wait
    delay = 0.02
    while True:
        async with transaction(db, write=True) as session:
            record_id = new_id()
            if await repository.insert_idempotency(session, record_id=record_id, merchant_id=merchant_id, key=key,
                                                   fingerprint=fp, now=utcnow()):
                await session.commit()
                return Claim(record_id, None)
            existing = await repository.get_idempotency(session, merchant_id, key)
            if existing is not None and existing.fingerprint == fp and existing.status == "pending" and \
                    await repository.take_over_stale(session, existing.id, now=utcnow(), stale_after=STALE_AFTER):
                await session.commit()
                return Claim(existing.id, None)
        if existing is None:  # deleted (its request failed) between our insert and read: try again
            if time.monotonic() >= deadline:
                raise IdempotencyKeyInProgress
            continue
        if existing.fingerprint != fp:
            raise IdempotencyKeyMismatch
        if existing.status == "done" and existing.response_status is not None:
            return Claim(None, StoredAnswer(existing.response_status, json.loads(existing.response_body or "{}")))
        if time.monotonic() >= deadline:
            raise IdempotencyKeyInProgress
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.2)


async def store_error(db: Database, record_id: str, *, status: int, code: str, detail: str) -> None:
    async with transaction(db, write=True) as session:
        await repository.finish_idempotency(session, record_id, status=status,
                                            body=json.dumps({"code": code, "detail": detail}, ensure_ascii=False))
        await session.commit()


async def forget(db: Database, record_id: str) -> None:
    async with transaction(db, write=True) as session:
        await repository.drop_idempotency(session, record_id)
        await session.commit()
