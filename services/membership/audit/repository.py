from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.membership.audit.models import AuditEntry


async def add(session: AsyncSession, entry: AuditEntry) -> None:
    session.add(entry)
    await session.flush()


async def for_target(session: AsyncSession, target_id: str) -> list[AuditEntry]:
    return list(await session.scalars(select(AuditEntry).where(AuditEntry.target_id == target_id)
                                      .order_by(AuditEntry.at, AuditEntry.id)))
