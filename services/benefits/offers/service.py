"""Offers: created by staff for merchants in their subtree; listed to everyone while live,
optionally by category, text and distance."""

from __future__ import annotations

import logging
import math
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.benefits.deps import Scope
from services.benefits.merchants import service as merchants
from services.benefits.merchants.errors import InvalidOrg
from services.benefits.merchants.models import Merchant
from services.benefits.offers import repository
from services.benefits.offers.errors import OfferNotFound
from services.benefits.offers.geo import bounding_box, haversine_m
from services.benefits.offers.models import Offer
from services.benefits.offers.schemas import MerchantBrief, OfferCreate, OfferList, OfferRead
from services.common.db import utcnow
from services.common.errors import ProblemError
from services.common.http import OrgDirectory
from services.common.pagination import decode_cursor, encode_cursor

logger = logging.getLogger("smartunion.benefits.offers")


def is_live(offer: Offer, now: datetime) -> bool:
    return offer.starts_at <= now < offer.ends_at


def offer_read(offer: Offer, merchant: Merchant, *, now: datetime, distance_m: float | None = None) -> OfferRead:
    remaining = None if offer.total_quota is None else max(0, offer.total_quota - offer.used_count)
    return OfferRead(
        id=offer.id, merchant_id=offer.merchant_id, title=offer.title, description=offer.description,
        discount_type=offer.discount_type, value=offer.value, min_spend_fen=offer.min_spend_fen,
        max_discount_fen=offer.max_discount_fen, per_member_limit=offer.per_member_limit,
        limit_period=offer.limit_period, total_quota=offer.total_quota, remaining_quota=remaining,
        eligible_org_id=offer.eligible_org_id, starts_at=offer.starts_at, ends_at=offer.ends_at,
        live=is_live(offer, now), created_at=offer.created_at,
        merchant=MerchantBrief(id=merchant.id, name=merchant.name, category=merchant.category,
                               address=merchant.address, lat=merchant.lat, lng=merchant.lng),
        distance_m=None if distance_m is None else round(distance_m),
    )


async def create_offer(*, session: AsyncSession, data: OfferCreate, scope: Scope,
                       orgs: OrgDirectory) -> tuple[Offer, Merchant]:
    merchant = await merchants.get_in_scope(session=session, merchant_id=data.merchant_id, scope=scope)
    eligible_path = None
    if data.eligible_org_id is not None:
        eligible_path = await orgs.path(data.eligible_org_id)
        if eligible_path is None:
            raise InvalidOrg
    offer = Offer(merchant_id=merchant.id, org_path=merchant.org_path, title=data.title,
                  description=data.description, discount_type=data.discount_type, value=data.value,
                  min_spend_fen=data.min_spend_fen, max_discount_fen=data.max_discount_fen,
                  per_member_limit=data.per_member_limit, limit_period=data.limit_period,
                  total_quota=data.total_quota, used_count=0, eligible_org_id=data.eligible_org_id,
                  eligible_org_path=eligible_path, starts_at=data.starts_at, ends_at=data.ends_at,
                  created_by=scope.principal.account_id)
    await repository.add(session, offer)
    logger.info("offer created", extra={"fields": {"offer_id": offer.id, "merchant_id": merchant.id}})
    return offer, merchant


async def get_offer(*, session: AsyncSession, offer_id: str) -> OfferRead:
    found = await repository.get_with_merchant(session, offer_id)
    if found is None:
        raise OfferNotFound
    return offer_read(*found, now=utcnow())


def _terms(q: str | None) -> list[str]:
    return [t for t in (q or "").split() if t][:5]


def _invalid_cursor() -> ProblemError:
    return ProblemError("游标无效", code="invalid_cursor", status=422)


# The first ring of the nearby search: in a big city's centre (~15 merchants per km²) 1 km holds a
# page of 20; elsewhere the ring grows until it holds a page or reaches the asked radius.
FIRST_RING_M = 1_000.0
MAX_GROWTH = 16.0


async def _nearest(session: AsyncSession, *, now: datetime, category: str | None, terms: list[str], lat: float,
                   lng: float, radius_m: int, after: tuple[float, str] | None,
                   want: int) -> list[tuple[float, str]]:
    """The first `want` (distance, offer id) keys after `after` within radius_m, nearest first.

    Exact, and bounded by the page rather than by the radius: ring r's bounding box holds every
    merchant within r, so once `want` keys after the cursor lie within r, nothing outside the box
    can come before them. Otherwise the ring grows (by the shortfall's square root, at least 2×)
    up to radius_m. A page of 20 in a city centre reads ~50 rows instead of every merchant within
    50 km (thousands); the rows read are at most ~4/3 of those in the final ring's box. Distances
    are computed here with the same haversine every time, so the (distance, id) cursor is stable.
    """
    start = max(0.0, after[0]) if after is not None else 0.0
    if start > radius_m:
        return []
    ring = min(float(radius_m), start + FIRST_RING_M)
    while True:
        box = bounding_box(lat, lng, ring)
        candidates = await repository.nearby_candidates(session, now=now, category=category, terms=terms, box=box)
        ranked = []
        for offer_id, mlat, mlng in candidates:
            d = haversine_m(lat, lng, mlat, mlng)
            if d <= ring and (after is None or (d, offer_id) > after):
                ranked.append((d, offer_id))
        if len(ranked) >= want or ring >= radius_m:
            ranked.sort()
            return ranked[:want]
        growth = min(MAX_GROWTH, max(2.0, math.sqrt(1.5 * want / max(len(ranked), 1))))
        ring = min(float(radius_m), start + (ring - start) * growth)


async def list_offers(*, session: AsyncSession, category: str | None, q: str | None, lat: float | None,
                      lng: float | None, radius_m: int, limit: int, cursor: str | None) -> OfferList:
    now = utcnow()
    terms = _terms(q)
    after = decode_cursor(cursor)
    if lat is None or lng is None:
        if after is not None and (len(after) != 1 or not isinstance(after[0], str)):
            raise _invalid_cursor()
        rows = await repository.list_live(session, now=now, category=category, terms=terms,
                                          before=after[0] if after else None, limit=limit + 1)
        nxt = encode_cursor([rows[limit - 1][0].id]) if len(rows) > limit else None
        return OfferList(items=[offer_read(o, m, now=now) for o, m in rows[:limit]], next_cursor=nxt)

    if after is not None and (len(after) != 2 or not isinstance(after[0], int | float)
                              or isinstance(after[0], bool) or not isinstance(after[1], str)
                              or not math.isfinite(after[0])):
        raise _invalid_cursor()
    key = (float(after[0]), str(after[1])) if after is not None else None
    page = await _nearest(session, now=now, category=category, terms=terms, lat=lat, lng=lng, radius_m=radius_m,
                          after=key, want=limit + 1)
    found = await repository.by_ids(session, [oid for _, oid in page[:limit]])
    items = [offer_read(*found[oid], now=now, distance_m=d) for d, oid in page[:limit] if oid in found]
    nxt = encode_cursor([page[limit - 1][0], page[limit - 1][1]]) if len(page) > limit else None
    return OfferList(items=items, next_cursor=nxt)
