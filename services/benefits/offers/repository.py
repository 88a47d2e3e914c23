from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.benefits.merchants.models import Merchant
from services.benefits.offers.geo import BoundingBox
from services.benefits.offers.models import Offer


async def add(session: AsyncSession, offer: Offer) -> None:
    session.add(offer)
    await session.flush()


async def get_with_merchant(session: AsyncSession, offer_id: str) -> tuple[Offer, Merchant] | None:
    row = (await session.execute(select(Offer, Merchant).join(Merchant, Merchant.id == Offer.merchant_id)
                                 .where(Offer.id == offer_id))).first()
    return (row[0], row[1]) if row else None


async def get(session: AsyncSession, offer_id: str) -> Offer | None:
    return await session.get(Offer, offer_id)


def _filters(*, now: datetime, category: str | None, terms: Sequence[str]) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [Offer.starts_at <= now, Offer.ends_at > now]
    if category:
        conds.append(Merchant.category == category)
    # At this size a LIKE on both names is enough and works for Chinese of any length (1-2
    # character terms included), on SQLite and PostgreSQL alike.
    for term in terms:
        conds.append(or_(Merchant.name.icontains(term, autoescape=True),
                         Offer.title.icontains(term, autoescape=True)))
    return conds


def _offer_and_merchant() -> Select[Offer, Merchant]:
    return select(Offer, Merchant).join(Merchant, Merchant.id == Offer.merchant_id)


async def list_live(session: AsyncSession, *, now: datetime, category: str | None, terms: Sequence[str],
                    before: str | None, limit: int) -> list[tuple[Offer, Merchant]]:
    """Live offers, newest first (ids are time-ordered), keyset-paginated by id."""
    conds = _filters(now=now, category=category, terms=terms)
    if before:
        conds.append(Offer.id < before)
    stmt = _offer_and_merchant().where(*conds).order_by(Offer.id.desc()).limit(limit)
    return [(r[0], r[1]) for r in (await session.execute(stmt)).all()]


async def nearby_candidates(session: AsyncSession, *, now: datetime, category: str | None, terms: Sequence[str],
                            box: BoundingBox) -> list[tuple[str, float, float]]:
    """(offer id, lat, lng) of live offers whose merchant lies in the box: a range scan on the
    (lat, lng) index; the exact distance is computed by the caller."""
    lng_conds = [Merchant.lng.between(lo, hi) for lo, hi in box.lng_ranges]
    conds = [Merchant.lat.between(box.lat_min, box.lat_max),
             lng_conds[0] if len(lng_conds) == 1 else or_(*lng_conds),
             *_filters(now=now, category=category, terms=terms)]
    stmt = select(Offer.id, Merchant.lat, Merchant.lng).select_from(Merchant).join(
        Offer, and_(Offer.merchant_id == Merchant.id)).where(*conds)
    return [(r[0], r[1], r[2]) for r in (await session.execute(stmt)).all()]


async def by_ids(session: AsyncSession, ids: Sequence[str]) -> dict[str, tuple[Offer, Merchant]]:
    if not ids:
        return {}
    rows = (await session.execute(_offer_and_merchant().where(Offer.id.in_(ids)))).all()
    return {offer.id: (offer, merchant) for offer, merchant in rows}
