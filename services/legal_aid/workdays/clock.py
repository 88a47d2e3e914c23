"""Working-time arithmetic on the mainland China working-day calendar.

One rule covers submission, due times and pauses: a working day contributes all of its 24 hours
(00:00–24:00 Asia/Shanghai) to the clock, any other day contributes nothing. "N working days"
is N × 24 hours of working time, so

- a ticket submitted on a working day is due at the same clock time N working days later
  (Friday 22:00 → Tuesday 22:00);
- a ticket submitted on a non-working day starts counting at 00:00 of the next working day and
  is due at 24:00 of the N-th working day (like the Civil Code's art. 201–203 for periods:
  the day of the event does not count, the period ends at 24:00 of its last day);
- a pause (waiting for the member) keeps the remaining working time and spends it from the
  moment the ticket resumes.

Which days are working days: the override table first (staff fill it when the State Council
publishes a schedule that the library does not know yet, or to correct one), then
`chinese_calendar` (public holidays and 调休 make-up workdays), and for a year that neither
knows, Monday–Friday — recorded in `fallback_years` so the caller can flag and log it.
China has had no daylight saving time since 1991, so a fixed UTC+8 offset is exact.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache

import chinese_calendar

CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")
DAY_SECONDS = 24 * 3600
# Guard against a calendar without working days (e.g. a mistaken override run): no real
# schedule has more than a couple of weeks off in a row.
MAX_SCAN_DAYS = 3 * 366

SOURCE_OVERRIDE = "override"
SOURCE_LIBRARY = "library"
SOURCE_FALLBACK = "fallback"


class CalendarExhausted(RuntimeError):
    pass


@lru_cache(maxsize=8192)
def library_day(d: date) -> bool | None:
    """chinese_calendar's answer, or None for a year it does not know."""
    try:
        return bool(chinese_calendar.is_workday(d))
    except NotImplementedError:
        return None


@dataclass
class WorkCalendar:
    overrides: Mapping[date, bool] = field(default_factory=dict)
    fallback_years: set[int] = field(default_factory=set)

    def day(self, d: date) -> tuple[bool, str]:
        if d in self.overrides:
            return self.overrides[d], SOURCE_OVERRIDE
        known = library_day(d)
        if known is not None:
            return known, SOURCE_LIBRARY
        return d.weekday() < 5, SOURCE_FALLBACK

    def is_workday(self, d: date) -> bool:
        workday, source = self.day(d)
        if source == SOURCE_FALLBACK:
            self.fallback_years.add(d.year)
        return workday


def _local_midnight(d: date) -> datetime:
    return datetime.combine(d, time(0), CHINA_TZ)


def add_working_time(calendar: WorkCalendar, start: datetime, seconds: float) -> datetime:
    """The instant at which `seconds` of working time have passed since `start`."""
    if seconds <= 0:
        return start
    local = start.astimezone(CHINA_TZ)
    day = local.date()
    offset = (local - _local_midnight(day)).total_seconds()
    remaining = float(seconds)
    for _ in range(MAX_SCAN_DAYS):
        if calendar.is_workday(day):
            available = DAY_SECONDS - offset
            if remaining <= available:
                return (_local_midnight(day) + timedelta(seconds=offset + remaining)).astimezone(start.tzinfo)
            remaining -= available
        day += timedelta(days=1)
        offset = 0.0
    raise CalendarExhausted("no working days found")


def working_seconds(calendar: WorkCalendar, start: datetime, end: datetime) -> float:
    """Working time between two instants (0 when end <= start)."""
    if end <= start:
        return 0.0
    total = 0.0
    day = start.astimezone(CHINA_TZ).date()
    last = end.astimezone(CHINA_TZ).date()
    while day <= last:
        if calendar.is_workday(day):
            lo = max(start, _local_midnight(day))
            hi = min(end, _local_midnight(day + timedelta(days=1)))
            if hi > lo:
                total += (hi - lo).total_seconds()
        day += timedelta(days=1)
    return total


def due_after(calendar: WorkCalendar, start: datetime, working_days: int) -> datetime:
    return add_working_time(calendar, start, working_days * DAY_SECONDS)


def resumed_due(calendar: WorkCalendar, due: datetime, paused_at: datetime, resumed_at: datetime) -> datetime:
    """The due time after a pause: the working time that was left at the pause is spent from the
    moment of resumption. A due time that had already passed when the pause began stays."""
    if due <= paused_at:
        return due
    return add_working_time(calendar, resumed_at, working_seconds(calendar, paused_at, due))
