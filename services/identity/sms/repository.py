from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.sms.models import SmsCode


async def latest(session: AsyncSession, phone_hash: str) -> SmsCode | None:
    return await session.scalar(select(SmsCode).where(SmsCode.phone_hash == phone_hash)
                                .order_by(SmsCode.created_at.desc(), SmsCode.id.desc()).limit(1))


async def add(session: AsyncSession, code: SmsCode) -> None:
    session.add(code)
    await session.flush()


async def kill_live(session: AsyncSession, phone_hash: str) -> None:
    await session.execute(update(SmsCode).where(SmsCode.phone_hash == phone_hash, SmsCode.dead.is_(False))
                          .values(dead=True))


async def count_failure(session: AsyncSession, code_id: str, max_attempts: int) -> None:
    """Atomic increment, so parallel guesses cannot each see 4 and all try once more."""
    await session.execute(update(SmsCode).where(SmsCode.id == code_id)
                          .values(attempts=SmsCode.attempts + 1, dead=SmsCode.attempts + 1 >= max_attempts))


async def consume(session: AsyncSession, code_id: str, now: datetime) -> bool:
    result = await session.execute(update(SmsCode).where(SmsCode.id == code_id, SmsCode.dead.is_(False),
                                                         SmsCode.expires_at > now).values(dead=True))
    return result.rowcount == 1  # type: ignore[attr-defined]
