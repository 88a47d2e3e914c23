from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.benefits.merchants.models import Merchant, MerchantKey


async def add(session: AsyncSession, obj: Merchant | MerchantKey) -> None:
    session.add(obj)
    await session.flush()


async def get(session: AsyncSession, merchant_id: str) -> Merchant | None:
    return await session.get(Merchant, merchant_id)


async def list_in_scope(session: AsyncSession, *, root_path: str | None, everywhere: bool, before: str | None,
                        limit: int) -> list[Merchant]:
    stmt = select(Merchant)
    if not everywhere:
        stmt = stmt.where(Merchant.org_path.startswith(root_path or "\x00", autoescape=True))
    if before:
        stmt = stmt.where(Merchant.id < before)
    return list(await session.scalars(stmt.order_by(Merchant.id.desc()).limit(limit)))


async def get_key(session: AsyncSession, key_id: str) -> MerchantKey | None:
    return await session.get(MerchantKey, key_id)


async def keys_of(session: AsyncSession, merchant_id: str) -> list[MerchantKey]:
    rows = await session.scalars(select(MerchantKey).where(MerchantKey.merchant_id == merchant_id)
                                 .order_by(MerchantKey.created_at.desc()))
    return list(rows)
