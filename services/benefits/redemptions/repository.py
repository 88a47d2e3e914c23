from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.benefits.merchants.models import Merchant
from services.benefits.offers.models import Offer
from services.benefits.redemptions.models import Redemption, RedemptionCounter
from services.benefits.sessions import upsert


async def counter_used(session: AsyncSession, *, offer_id: str, member_id: str, period_key: str) -> int:
    used = await session.scalar(select(RedemptionCounter.used).where(
        RedemptionCounter.offer_id == offer_id, RedemptionCounter.member_id == member_id,
        RedemptionCounter.period_key == period_key))
    return int(used or 0)


async def bump_counter(session: AsyncSession, *, offer_id: str, member_id: str, period_key: str, limit: int) -> bool:
    """used += 1 unless it already reached `limit`; one atomic statement (an upsert whose update
    is conditional), so two concurrent redemptions cannot both see `used < limit`."""
    stmt = upsert(session, RedemptionCounter).values(offer_id=offer_id, member_id=member_id,
                                                     period_key=period_key, used=1)
    stmt = stmt.on_conflict_do_update(index_elements=["offer_id", "member_id", "period_key"],
                                      set_={"used": RedemptionCounter.used + 1},
                                      where=RedemptionCounter.used < limit)
    result = await session.execute(stmt)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def bump_quota(session: AsyncSession, offer_id: str) -> bool:
    """used_count += 1 only while below total_quota (a conditional UPDATE: the row lock makes the
    second of two racers re-check the condition after the first commits)."""
    result = await session.execute(
        update(Offer).where(Offer.id == offer_id, Offer.total_quota.is_not(None), Offer.used_count < Offer.total_quota)
        .values(used_count=Offer.used_count + 1))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def add(session: AsyncSession, redemption: Redemption) -> None:
    session.add(redemption)
    await session.flush()


async def for_merchant(session: AsyncSession, merchant_id: str, *, before: str | None,
                       limit: int) -> list[tuple[Redemption, str]]:
    stmt = (select(Redemption, Offer.title).join(Offer, Offer.id == Redemption.offer_id)
            .where(Redemption.merchant_id == merchant_id))
    if before:
        stmt = stmt.where(Redemption.id < before)
    rows = (await session.execute(stmt.order_by(Redemption.id.desc()).limit(limit))).all()
    return [(r[0], r[1]) for r in rows]


async def for_account(session: AsyncSession, account_id: str, *, before: str | None,
                      limit: int) -> list[tuple[Redemption, str, str]]:
    stmt = (select(Redemption, Offer.title, Merchant.name).join(Offer, Offer.id == Redemption.offer_id)
            .join(Merchant, Merchant.id == Redemption.merchant_id).where(Redemption.account_id == account_id))
    if before:
        stmt = stmt.where(Redemption.id < before)
    rows = (await session.execute(stmt.order_by(Redemption.id.desc()).limit(limit))).all()
    return [(r[0], r[1], r[2]) for r in rows]


async def statement(session: AsyncSession, merchant_id: str, *, start: datetime,
                    end: datetime) -> list[tuple[str, str, int, int, int, int]]:
    stmt = (select(Redemption.offer_id, Offer.title, func.count(Redemption.id),
                   func.coalesce(func.sum(Redemption.order_amount_fen), 0),
                   func.coalesce(func.sum(Redemption.discount_fen), 0),
                   func.coalesce(func.sum(Redemption.payable_fen), 0))
            .join(Offer, Offer.id == Redemption.offer_id)
            .where(Redemption.merchant_id == merchant_id, Redemption.created_at >= start, Redemption.created_at < end)
            .group_by(Redemption.offer_id, Offer.title).order_by(Redemption.offer_id))
    rows = (await session.execute(stmt)).all()
    return [(str(a), str(b), int(c), int(d), int(e), int(f)) for a, b, c, d, e, f in rows]


async def anonymise_account(session: AsyncSession, account_id: str) -> int:
    """Keep amounts and dates; drop who it was. Counters of that member go too."""
    member_ids = [m for m in await session.scalars(select(Redemption.member_id).distinct()
                                                   .where(Redemption.account_id == account_id)) if m]
    if member_ids:
        await session.execute(delete(RedemptionCounter).where(RedemptionCounter.member_id.in_(member_ids)))
    result = await session.execute(update(Redemption).where(Redemption.account_id == account_id)
                                   .values(account_id=None, member_id=None, card_no_masked=None))
    return int(result.rowcount)  # type: ignore[attr-defined]
