from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.membership.scope import subtree
from services.membership.transfers.models import Transfer


async def get(session: AsyncSession, transfer_id: str, *, for_update: bool = False) -> Transfer | None:
    query = select(Transfer).where(Transfer.id == transfer_id)
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def pending_of(session: AsyncSession, member_id: str) -> Transfer | None:
    return await session.scalar(select(Transfer).where(Transfer.pending_key == member_id))


async def add(session: AsyncSession, transfer: Transfer) -> None:
    session.add(transfer)
    await session.flush()


async def listing(session: AsyncSession, *, account_id: str | None, scope: str | None, status: str | None,
                  before: str | None, limit: int) -> list[Transfer]:
    query = select(Transfer)
    if account_id is not None:
        query = query.where(Transfer.account_id == account_id)
    if scope is not None:
        query = query.where(subtree(Transfer.to_org_path, scope))
    if status:
        query = query.where(Transfer.status == status)
    if before:
        query = query.where(Transfer.id < before)
    return list(await session.scalars(query.order_by(Transfer.id.desc()).limit(limit)))
