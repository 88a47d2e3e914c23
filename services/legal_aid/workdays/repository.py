from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.legal_aid.workdays.models import CalendarDay


async def overrides_between(session: AsyncSession, first: date, last: date) -> dict[date, bool]:
    rows = await session.scalars(select(CalendarDay).where(CalendarDay.day >= first, CalendarDay.day <= last))
    return {row.day: row.workday for row in rows}


async def days_between(session: AsyncSession, first: date, last: date) -> dict[date, CalendarDay]:
    rows = await session.scalars(select(CalendarDay).where(CalendarDay.day >= first, CalendarDay.day <= last))
    return {row.day: row for row in rows}


async def get(session: AsyncSession, day: date) -> CalendarDay | None:
    return await session.get(CalendarDay, day)


async def add(session: AsyncSession, row: CalendarDay) -> None:
    session.add(row)
    await session.flush()
