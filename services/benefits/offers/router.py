from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.benefits.deps import OrgsDep, ScopeDep
from services.benefits.merchants.schemas import Category
from services.benefits.offers import service
from services.benefits.offers.schemas import OfferCreate, OfferList, OfferRead
from services.common.auth import PrincipalDep
from services.common.db import SessionDep, utcnow
from services.common.errors import Unprocessable
from services.common.pagination import Cursor, Limit

router = APIRouter(prefix="/api/v1/benefits/offers", tags=["offers"])


@router.post("", status_code=201, response_model=OfferRead)
async def create_offer(body: OfferCreate, scope: ScopeDep, orgs: OrgsDep, session: SessionDep) -> OfferRead:
    """Create an offer for a merchant in the caller's subtree (staff, admin)."""
    offer, merchant = await service.create_offer(session=session, data=body, scope=scope, orgs=orgs)
    return service.offer_read(offer, merchant, now=utcnow())


@router.get("", response_model=OfferList)
async def list_offers(
    _: PrincipalDep,
    session: SessionDep,
    category: Category | None = None,
    q: Annotated[str | None, Query(max_length=50)] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90, allow_inf_nan=False)] = None,
    lng: Annotated[float | None, Query(ge=-180, le=180, allow_inf_nan=False)] = None,
    radius_m: Annotated[int, Query(ge=1, le=50_000)] = 5_000,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> OfferList:
    """Live offers. With lat/lng: those within radius_m (default 5 km, max 50 km), nearest first,
    each with distance_m; otherwise newest first."""
    if (lat is None) != (lng is None):
        missing = "lat" if lat is None else "lng"
        raise Unprocessable("lat 与 lng 需同时提供",
                            extra={"errors": [{"loc": ["query", missing], "msg": "lat and lng go together"}]})
    return await service.list_offers(session=session, category=category, q=q, lat=lat, lng=lng,
                                     radius_m=radius_m, limit=limit, cursor=cursor)


@router.get("/{offer_id}", response_model=OfferRead)
async def get_offer(offer_id: str, _: PrincipalDep, session: SessionDep) -> OfferRead:
    """One offer (live or not)."""
    return await service.get_offer(session=session, offer_id=offer_id)
