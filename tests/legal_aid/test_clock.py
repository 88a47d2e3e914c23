"""The working-day clock on real dates (mainland China, Asia/Shanghai)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import chinese_calendar
import pytest

from services.legal_aid.workdays.clock import (
    CHINA_TZ,
    SOURCE_FALLBACK,
    SOURCE_LIBRARY,
    SOURCE_OVERRIDE,
    WorkCalendar,
    add_working_time,
    due_after,
    resumed_due,
    working_seconds,
)


def bj(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    """Beijing wall-clock time as an aware UTC datetime (as the service stores it)."""
    return datetime(y, mo, d, h, mi, tzinfo=CHINA_TZ).astimezone(UTC)


def due(start: datetime, cal: WorkCalendar | None = None) -> datetime:
    return due_after(cal or WorkCalendar(), start, 2)


class TestLibraryKnowsTheDates:
    """The dates the other tests rely on, checked against chinese_calendar itself."""

    def test_national_day_2026(self) -> None:
        for d in range(1, 8):
            assert not chinese_calendar.is_workday(date(2026, 10, d))
        assert chinese_calendar.is_workday(date(2026, 9, 20))   # Sunday, make-up workday
        assert chinese_calendar.is_workday(date(2026, 10, 10))  # Saturday, make-up workday
        assert date(2026, 9, 20).weekday() == 6 and date(2026, 10, 10).weekday() == 5

    def test_spring_festival_2026(self) -> None:
        for d in range(15, 24):
            assert not chinese_calendar.is_workday(date(2026, 2, d))
        assert chinese_calendar.is_workday(date(2026, 2, 14))   # Saturday, make-up workday
        assert chinese_calendar.is_workday(date(2026, 2, 28))   # Saturday, make-up workday

    def test_2027_is_unknown_to_the_library(self) -> None:
        with pytest.raises(NotImplementedError):
            chinese_calendar.is_workday(date(2027, 1, 4))


class TestDueTime:
    def test_plain_week(self) -> None:
        # Tuesday 10:30 → Thursday 10:30
        assert due(bj(2026, 3, 10, 10, 30)) == bj(2026, 3, 12, 10, 30)

    def test_friday_night(self) -> None:
        # Friday 22:00: 2 h of Friday, Saturday and Sunday do not count, Monday 24 h, Tuesday 22 h.
        assert due(bj(2026, 3, 13, 22, 0)) == bj(2026, 3, 17, 22, 0)

    def test_saturday_submission_starts_next_working_day(self) -> None:
        # Saturday → counting starts Monday 00:00 → due at the end of Tuesday (Wednesday 00:00).
        assert due(bj(2026, 3, 14, 11, 0)) == bj(2026, 3, 18, 0, 0)
        assert due(bj(2026, 3, 15, 23, 59)) == bj(2026, 3, 18, 0, 0)

    def test_make_up_sunday_before_national_day_counts(self) -> None:
        # Thursday 17 Sep 15:00: Friday counts, Saturday does not, Sunday 20 Sep is a workday.
        assert due(bj(2026, 9, 17, 15, 0)) == bj(2026, 9, 20, 15, 0)

    def test_national_day_holiday_is_skipped(self) -> None:
        # Wednesday 30 Sep 10:00: 14 h left that day, 1–7 Oct off, Thursday 8 Oct 24 h, Friday 10 h.
        assert due(bj(2026, 9, 30, 10, 0)) == bj(2026, 10, 9, 10, 0)

    def test_submitted_during_national_day(self) -> None:
        # 3 Oct (holiday) → counting starts 8 Oct 00:00 → due at the end of 9 Oct.
        assert due(bj(2026, 10, 3, 9, 0)) == bj(2026, 10, 10, 0, 0)

    def test_make_up_saturday_after_national_day_counts(self) -> None:
        # Friday 9 Oct 10:00 → Saturday 10 Oct (workday) → Sunday off → Monday 12 Oct 10:00.
        assert due(bj(2026, 10, 9, 10, 0)) == bj(2026, 10, 12, 10, 0)

    def test_friday_night_before_spring_festival(self) -> None:
        # Friday 13 Feb 20:00: 4 h, Saturday 14 Feb is a make-up workday (24 h), 15–23 Feb off,
        # Tuesday 24 Feb 20:00.
        assert due(bj(2026, 2, 13, 20, 0)) == bj(2026, 2, 24, 20, 0)

    def test_submitted_on_new_years_eve_of_the_lunar_year(self) -> None:
        # Monday 16 Feb (holiday) → counting from 24 Feb → due end of 25 Feb.
        assert due(bj(2026, 2, 16, 12, 0)) == bj(2026, 2, 26, 0, 0)

    def test_due_is_monotonic_across_a_weekend(self) -> None:
        start = bj(2026, 3, 13, 0, 0)
        previous = due(start)
        for hours in range(1, 24 * 4):
            current = due(start + timedelta(hours=hours))
            assert current >= previous
            previous = current

    def test_working_seconds_inverts_add(self) -> None:
        cal = WorkCalendar()
        start = bj(2026, 9, 29, 18, 45)
        for secs in (1, 3600, 5 * 3600, 48 * 3600, 100 * 3600):
            end = add_working_time(cal, start, secs)
            assert working_seconds(cal, start, end) == pytest.approx(secs)


class TestOverridesAndFallback:
    def test_known_year_uses_library_without_fallback(self) -> None:
        cal = WorkCalendar()
        due(bj(2026, 12, 28, 10, 0), cal)
        assert cal.fallback_years == set()

    def test_unknown_year_falls_back_to_monday_friday(self) -> None:
        # Wednesday 30 Dec 2026 10:00 → Thursday 31 Dec, then Friday 1 Jan 2027: the library
        # does not know 2027, so Monday–Friday is assumed (and reported).
        cal = WorkCalendar()
        assert due(bj(2026, 12, 30, 10, 0), cal) == bj(2027, 1, 1, 10, 0)
        assert cal.fallback_years == {2027}
        assert cal.day(date(2027, 1, 1)) == (True, SOURCE_FALLBACK)

    def test_overrides_win_and_remove_the_fallback(self) -> None:
        overrides = {date(2027, 1, 1): False, date(2027, 1, 2): False, date(2027, 1, 3): False,
                     date(2027, 1, 4): True}
        cal = WorkCalendar(overrides=overrides)
        assert due(bj(2026, 12, 30, 10, 0), cal) == bj(2027, 1, 4, 10, 0)
        assert cal.fallback_years == set()
        assert cal.day(date(2027, 1, 1)) == (False, SOURCE_OVERRIDE)

    def test_override_can_correct_a_known_year(self) -> None:
        cal = WorkCalendar(overrides={date(2026, 3, 11): False})
        assert cal.day(date(2026, 3, 12)) == (True, SOURCE_LIBRARY)
        assert due(bj(2026, 3, 10, 10, 30), cal) == bj(2026, 3, 13, 10, 30)


class TestPause:
    def test_pause_over_a_weekend_keeps_remaining_working_time(self) -> None:
        cal = WorkCalendar()
        start = bj(2026, 3, 10, 10, 0)        # Tuesday
        d = due(start, cal)                    # Thursday 10:00
        paused, resumed = bj(2026, 3, 11, 10, 0), bj(2026, 3, 16, 9, 0)  # Wed 10:00 → next Mon 09:00
        # 24 h were left at the pause; they run from Monday 09:00 → Tuesday 09:00.
        assert resumed_due(cal, d, paused, resumed) == bj(2026, 3, 17, 9, 0)

    def test_pause_resumed_on_a_holiday_counts_from_the_next_working_day(self) -> None:
        cal = WorkCalendar()
        d = bj(2026, 9, 30, 18, 0)
        paused, resumed = bj(2026, 9, 29, 18, 0), bj(2026, 10, 2, 12, 0)
        # 24 h left; resumed during the holiday → 8 Oct 00:00 + 24 h = 9 Oct 00:00.
        assert resumed_due(cal, d, paused, resumed) == bj(2026, 10, 9, 0, 0)

    def test_due_already_passed_at_pause_stays(self) -> None:
        cal = WorkCalendar()
        d = bj(2026, 3, 12, 10, 0)
        assert resumed_due(cal, d, bj(2026, 3, 13, 9, 0), bj(2026, 3, 20, 9, 0)) == d
