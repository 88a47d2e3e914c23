from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.passwords.models import LoginFailure


async def lock_username(session: AsyncSession, username: str) -> None:
    """Serialise login attempts on one username until the transaction ends, so that concurrent
    wrong guesses cannot all read the failure count before any of them is recorded (PostgreSQL
    let 27 of 30 concurrent guesses through a limit of 10). SQLite serialises writers already."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(func.hashtext("identity-login:" + username))))


async def failures_since(session: AsyncSession, username: str, since: datetime) -> list[datetime]:
    rows = await session.scalars(select(LoginFailure.at).where(LoginFailure.username == username,
                                                               LoginFailure.at > since).order_by(LoginFailure.at))
    return list(rows)


async def record_failure(session: AsyncSession, username: str) -> None:
    session.add(LoginFailure(username=username))
    await session.flush()


async def clear_failures(session: AsyncSession, username: str) -> None:
    await session.execute(delete(LoginFailure).where(LoginFailure.username == username))
