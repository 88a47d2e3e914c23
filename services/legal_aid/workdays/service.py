"""The working-day calendar as the service uses it: library + staff overrides, loaded for the
window a computation can touch."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.db import utcnow
from services.common.logging import log_event
from services.legal_aid.workdays import repository
from services.legal_aid.workdays.clock import CHINA_TZ, WorkCalendar
from services.legal_aid.workdays.models import CalendarDay
from services.legal_aid.workdays.schemas import CalendarDayIn, CalendarDayRead

logger = logging.getLogger("smartunion.legal_aid.calendar")

# A due-time computation looks at most a few weeks ahead (2 working days across the longest
# holiday); a year of overrides is a few hundred tiny rows.
WINDOW_DAYS = 400


async def load(session: AsyncSession, *, start: datetime, end: datetime | None = None) -> WorkCalendar:
    first = start.astimezone(CHINA_TZ).date() - timedelta(days=1)
    last = (end or start).astimezone(CHINA_TZ).date() + timedelta(days=WINDOW_DAYS)
    return WorkCalendar(overrides=await repository.overrides_between(session, first, last))


def report_fallback(calendar: WorkCalendar, *, ticket_id: str) -> bool:
    """Log (ids and years only) when a computation had to assume Monday–Friday."""
    if not calendar.fallback_years:
        return False
    log_event(logger, "working-day calendar unknown; assumed Monday-Friday", ticket_id=ticket_id,
              years=sorted(calendar.fallback_years))
    return True


async def upsert(session: AsyncSession, *, days: list[CalendarDayIn], actor_id: str) -> list[CalendarDayRead]:
    out = []
    for item in days:
        row = await repository.get(session, item.date)
        if row is None:
            row = CalendarDay(day=item.date, workday=item.workday, note=item.note, updated_by=actor_id)
            try:
                async with session.begin_nested():
                    await repository.add(session, row)
            except IntegrityError:  # the same day inserted concurrently: update theirs
                row = await repository.get(session, item.date)
                if row is None:
                    raise
        if row.workday != item.workday or row.note != item.note or row.updated_by != actor_id:
            row.workday, row.note, row.updated_by, row.updated_at = item.workday, item.note, actor_id, utcnow()
        out.append(CalendarDayRead(date=row.day, workday=row.workday, source="override", note=row.note))
    await session.flush()
    log_event(logger, "calendar overrides saved", actor_id=actor_id, count=len(days))
    return out


async def describe(session: AsyncSession, *, first: date, last: date) -> list[CalendarDayRead]:
    rows = await repository.days_between(session, first, last)
    calendar = WorkCalendar(overrides={d: r.workday for d, r in rows.items()})
    out = []
    day = first
    while day <= last:
        workday, source = calendar.day(day)
        row = rows.get(day)
        out.append(CalendarDayRead(date=day, workday=workday, source=source, note=row.note if row else None))
        day += timedelta(days=1)
    return out
