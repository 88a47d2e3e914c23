from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import String, delete, exists, literal, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from services.benefits.merchant_api.models import IdempotencyRecord, UsedNonce
from services.benefits.merchants.models import MerchantKey
from services.benefits.sessions import upsert
from services.common.db import UtcDateTime

# The nonce claim of the merchant API's hot path (see nonces.py): inserts the nonce only while
# the key is live, or takes over a row whose time is up; 0 rows = key revoked/unknown or nonce
# seen. SQLite form, run by the nonce writer thread on its own sqlite3 connection (times are
# passed in SQLAlchemy's SQLite text form).
CLAIM_NONCE_IF_LIVE_SQL = """
INSERT INTO used_nonces (key_id, nonce, expires_at)
SELECT :key_id, :nonce, :expires_at
WHERE EXISTS (SELECT 1 FROM merchant_keys WHERE key_id = :key_id AND revoked_at IS NULL)
ON CONFLICT (key_id, nonce) DO UPDATE SET expires_at = excluded.expires_at
WHERE used_nonces.expires_at < :now
"""
SWEEP_NONCES_SQL = "DELETE FROM used_nonces WHERE expires_at < :now"


async def claim_nonce_if_live(conn: AsyncConnection, *, key_id: str, nonce: str, now: datetime,
                              expires_at: datetime) -> bool:
    """PostgreSQL form of CLAIM_NONCE_IF_LIVE_SQL (typed parameters)."""
    live = exists().where(MerchantKey.key_id == key_id, MerchantKey.revoked_at.is_(None))
    rows = select(literal(key_id, String), literal(nonce, String), literal(expires_at, UtcDateTime())).where(live)
    stmt = postgresql.insert(UsedNonce).from_select(["key_id", "nonce", "expires_at"], rows)
    stmt = stmt.on_conflict_do_update(index_elements=["key_id", "nonce"], set_={"expires_at": stmt.excluded.expires_at},
                                      where=UsedNonce.expires_at < now)
    result = await conn.execute(stmt)
    return bool(result.rowcount)


async def sweep_nonces_core(conn: AsyncConnection, now: datetime) -> None:
    await conn.execute(delete(UsedNonce).where(UsedNonce.expires_at < now))


async def key_is_live(conn: AsyncConnection, key_id: str) -> bool:
    row = (await conn.execute(select(MerchantKey.revoked_at).where(MerchantKey.key_id == key_id))).first()
    return row is not None and row[0] is None


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
