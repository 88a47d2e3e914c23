from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.membership.applications.models import Application
from services.membership.scope import subtree


async def get(session: AsyncSession, application_id: str, *, for_update: bool = False) -> Application | None:
    query = select(Application).where(Application.id == application_id)
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def pending_of(session: AsyncSession, account_id: str) -> Application | None:
    return await session.scalar(select(Application).where(Application.pending_key == account_id))


async def add(session: AsyncSession, application: Application) -> None:
    session.add(application)
    await session.flush()


async def listing(session: AsyncSession, *, account_id: str | None, scope: str | None, status: str | None,
                  before: str | None, limit: int) -> list[Application]:
    query = select(Application)
    if account_id is not None:
        query = query.where(Application.account_id == account_id)
    if scope is not None:
        query = query.where(subtree(Application.org_path, scope))
    if status:
        query = query.where(Application.status == status)
    if before:
        query = query.where(Application.id < before)
    return list(await session.scalars(query.order_by(Application.id.desc()).limit(limit)))
