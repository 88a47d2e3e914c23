from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.benefits.merchant_api.models import IdempotencyRecord, UsedNonce
from services.benefits.sessions import upsert


async def claim_nonce(session: AsyncSession, *, key_id: str, nonce: str, now: datetime, expires_at: datetime) -> bool:
    """Insert the nonce, or take over a row whose time is up; 0 rows touched = seen recently."""
    stmt = upsert(session, UsedNonce).values(key_id=key_id, nonce=nonce, expires_at=expires_at)
    stmt = stmt.on_conflict_do_update(index_elements=["key_id", "nonce"], set_={"expires_at": expires_at},
                                      where=UsedNonce.expires_at < now)
    result = await session.execute(stmt)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def sweep_nonces(session: AsyncSession, now: datetime) -> None:
    await session.execute(delete(UsedNonce).where(UsedNonce.expires_at < now))


async def insert_idempotency(session: AsyncSession, *, record_id: str, merchant_id: str, key: str,
                             fingerprint: str, now: datetime) -> bool:
    stmt = upsert(session, IdempotencyRecord).values(id=record_id, merchant_id=merchant_id, key=key,
                                                     fingerprint=fingerprint, status="pending", created_at=now)
    result = await session.execute(stmt.on_conflict_do_nothing(index_elements=["merchant_id", "key"]))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def get_idempotency(session: AsyncSession, merchant_id: str, key: str) -> IdempotencyRecord | None:
    return await session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.merchant_id == merchant_id,
                                                                IdempotencyRecord.key == key))


async def take_over_stale(session: AsyncSession, record_id: str, *, now: datetime, stale_after: float) -> bool:
    """A pending record whose request died (process killed) may be run again after a while."""
    result = await session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.id == record_id, IdempotencyRecord.status == "pending",
               IdempotencyRecord.created_at < now - timedelta(seconds=stale_after))
        .values(created_at=now))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def finish_idempotency(session: AsyncSession, record_id: str, *, status: int, body: str) -> None:
    await session.execute(update(IdempotencyRecord).where(IdempotencyRecord.id == record_id)
                          .values(status="done", response_status=status, response_body=body))


async def drop_idempotency(session: AsyncSession, record_id: str) -> None:
    await session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == record_id,
                                                          IdempotencyRecord.status == "pending"))
