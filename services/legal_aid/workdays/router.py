from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query

from services.common.auth import PrincipalDep, require_roles
from services.common.db import SessionDep
from services.common.errors import Unprocessable
from services.legal_aid.workdays import service
from services.legal_aid.workdays.schemas import CalendarDayList, CalendarUpsert

router = APIRouter(tags=["calendar"])

MAX_RANGE_DAYS = 366


@router.post("/api/v1/legal/calendar/days", response_model=CalendarDayList,
             dependencies=[require_roles("admin")])
async def upsert_days(body: CalendarUpsert, principal: PrincipalDep, session: SessionDep) -> CalendarDayList:
    """Set days as working or non-working (admin only: the calendar is national and moves every
    ticket's clock, so a workplace union's staff must not change it): next year's State Council
    schedule before the holiday library knows it, or a correction. Overrides win over the library.
    Due times already computed are not moved."""
    items = await service.upsert(session=session, days=body.days, actor_id=principal.account_id)
    return CalendarDayList(items=items)


@router.get("/api/v1/legal/calendar/days", response_model=CalendarDayList)
async def list_days(principal: PrincipalDep, session: SessionDep,
                    first: Annotated[dt.date, Query(alias="from")],
                    last: Annotated[dt.date, Query(alias="to")]) -> CalendarDayList:
    """Every day in [from, to] (at most 366 days) with whether it is a working day and where
    that answer comes from: `override`, `library` (chinese_calendar) or `fallback` (Mon–Fri)."""
    if last < first or (last - first).days >= MAX_RANGE_DAYS:
        raise Unprocessable("日期范围无效（最多 366 天）",
                            extra={"errors": [{"loc": ["query", "to"], "msg": "invalid range"}]})
    return CalendarDayList(items=await service.describe(session, first=first, last=last))
