from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.tokens.models import RefreshToken


async def add(session: AsyncSession, token: RefreshToken) -> None:
    session.add(token)
    await session.flush()


async def get(session: AsyncSession, token_id: str) -> RefreshToken | None:
    return await session.get(RefreshToken, token_id)


async def mark_used(session: AsyncSession, token_id: str, now: datetime) -> bool:
    """Spend a link; False when someone else spent or revoked it first (the race loser)."""
    result = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == token_id, RefreshToken.used_at.is_(None), RefreshToken.revoked_at.is_(None))
        .values(used_at=now)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


async def revoke_family(session: AsyncSession, family_id: str, now: datetime) -> None:
    await session.execute(
        update(RefreshToken).where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def revoke_account(session: AsyncSession, account_id: str, now: datetime) -> None:
    await session.execute(
        update(RefreshToken).where(RefreshToken.account_id == account_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def family_of(session: AsyncSession, token_id: str) -> str | None:
    return await session.scalar(select(RefreshToken.family_id).where(RefreshToken.id == token_id))
