from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.membership.orgs.models import Org


async def get(session: AsyncSession, org_id: str) -> Org | None:
    return await session.get(Org, org_id)


async def by_parent_and_name(session: AsyncSession, parent_id: str | None, name: str) -> Org | None:
    cond = Org.parent_id.is_(None) if parent_id is None else Org.parent_id == parent_id
    return await session.scalar(select(Org).where(cond, Org.name == name))


async def children(session: AsyncSession, parent_id: str | None, *, after: str | None, limit: int) -> list[Org]:
    cond = Org.parent_id.is_(None) if parent_id is None else Org.parent_id == parent_id
    query = select(Org).where(cond)
    if after:
        query = query.where(Org.id > after)
    return list(await session.scalars(query.order_by(Org.id).limit(limit)))


async def add(session: AsyncSession, org: Org) -> Org:
    session.add(org)
    await session.flush()
    return org
