from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.passwords.models import LoginFailure


async def failures_since(session: AsyncSession, username: str, since: datetime) -> list[datetime]:
    rows = await session.scalars(select(LoginFailure.at).where(LoginFailure.username == username,
                                                               LoginFailure.at > since).order_by(LoginFailure.at))
    return list(rows)


async def record_failure(session: AsyncSession, username: str) -> None:
    session.add(LoginFailure(username=username))
    await session.flush()


async def clear_failures(session: AsyncSession, username: str) -> None:
    await session.execute(delete(LoginFailure).where(LoginFailure.username == username))
