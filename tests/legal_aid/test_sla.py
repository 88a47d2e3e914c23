"""The first-response clock through the API, on real dates of the 2026 calendar."""

from __future__ import annotations

import logging
from datetime import datetime

import pytest

from services.legal_aid.workdays.clock import CHINA_TZ
from tests.legal_aid.conftest import World


def bj(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=CHINA_TZ)


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


class TestDueOnRealDates:
    async def test_due(self, world: World) -> None:
        for submitted, due in (
            (bj(2026, 9, 30, 10, 0), bj(2026, 10, 9, 10, 0)),     # National Day 1–7 Oct skipped
            (bj(2026, 10, 9, 10, 0), bj(2026, 10, 12, 10, 0)),    # Saturday 10 Oct is a make-up workday
            (bj(2026, 9, 17, 15, 0), bj(2026, 9, 20, 15, 0)),     # Sunday 20 Sep is a make-up workday
            (bj(2026, 10, 3, 9, 0), bj(2026, 10, 10, 0, 0)),      # during the holiday: end of 9 Oct
            (bj(2026, 2, 13, 20, 0), bj(2026, 2, 24, 20, 0)),     # Friday night before Spring Festival
            (bj(2026, 3, 13, 22, 30), bj(2026, 3, 17, 22, 30)),   # an ordinary Friday night
        ):
            world.at(submitted)
            t = await world.ticket(world.user(), org_id=world.orgs["gz_metro"])
            assert parse(t["first_response_due_at"]) == due, submitted
            assert parse(t["created_at"]) == submitted
            assert t["calendar_fallback"] is False


class TestOverdue:
    async def test_overdue_until_a_public_reply(self, world: World) -> None:
        owner = world.user()
        world.at(bj(2026, 3, 13, 22, 0))   # Friday night → due Tuesday 22:00
        t = await world.ticket(owner, org_id=world.orgs["gz_metro"])
        lawyer = await world.lawyer("gz", "guangzhou")
        staff = world.staff["guangzhou"]
        await world.assign(t["id"], "gz")
        await world.act(t["id"], "accept", staff)

        world.at(bj(2026, 3, 17, 21, 59))
        assert (await world.get(t["id"], owner)).json()["overdue"] is False
        world.at(bj(2026, 3, 17, 22, 1))
        assert (await world.get(t["id"], owner)).json()["overdue"] is True

        async def overdue_ids(value: str) -> set[str]:
            resp = await world.legal.get(f"/api/v1/legal/tickets?overdue={value}", headers=staff)
            return {i["id"] for i in resp.json()["items"]}

        assert await overdue_ids("true") == {t["id"]}
        assert await overdue_ids("false") == set()
        # Neither the owner's own message nor an internal note meets the deadline …
        await world.say(t["id"], owner, "还有人吗？")
        await world.say(t["id"], lawyer, "明天回复", internal=True)
        assert (await world.get(t["id"], owner)).json()["overdue"] is True
        # … a public reply by the assignee does.
        world.at(bj(2026, 3, 18, 9, 0))
        await world.say(t["id"], lawyer, "您好，我是承办律师。")
        body = (await world.get(t["id"], owner)).json()
        assert body["overdue"] is False
        assert parse(body["first_response_at"]) == bj(2026, 3, 18, 9, 0)
        assert await overdue_ids("true") == set()

    async def test_reply_before_due_is_never_overdue(self, world: World) -> None:
        world.at(bj(2026, 3, 10, 10, 0))
        t = await world.ticket(world.user(), org_id=world.orgs["gz_metro"])
        await world.say(t["id"], world.staff["gz_metro"], "已收到")
        world.at(bj(2026, 4, 1, 10, 0))
        assert (await world.get(t["id"], world.admin)).json()["overdue"] is False


class TestPause:
    async def test_waiting_member_does_not_count(self, world: World) -> None:
        owner = world.user()
        staff = world.staff["guangzhou"]
        world.at(bj(2026, 3, 10, 10, 0))                       # Tuesday → due Thursday 10:00
        t = await world.ticket(owner, org_id=world.orgs["gz_metro"])
        world.at(bj(2026, 3, 11, 10, 0))                       # Wednesday: 24 working hours left
        await world.act(t["id"], "accept", staff)
        await world.act(t["id"], "request_info", staff)         # no note: nothing public yet
        world.at(bj(2026, 3, 13, 12, 0))                       # Friday: past the original due time
        body = (await world.get(t["id"], owner)).json()
        assert body["overdue"] is False and body["clock_paused"] is True
        world.at(bj(2026, 3, 16, 9, 0))                        # Monday 09:00 the member answers
        await world.say(t["id"], owner, "合同照片已上传")
        body = (await world.get(t["id"], owner)).json()
        assert body["status"] == "accepted"
        assert parse(body["first_response_due_at"]) == bj(2026, 3, 17, 9, 0)
        world.at(bj(2026, 3, 17, 9, 1))
        assert (await world.get(t["id"], owner)).json()["overdue"] is True

    async def test_pause_across_national_day(self, world: World) -> None:
        owner = world.user()
        staff = world.staff["guangzhou"]
        world.at(bj(2026, 9, 29, 18, 0))                       # Tuesday: 6 h, 30 Sep 24 h, 8 Oct 18 h
        t = await world.ticket(owner, org_id=world.orgs["gz_metro"])
        assert parse(t["first_response_due_at"]) == bj(2026, 10, 8, 18, 0)
        world.at(bj(2026, 9, 30, 18, 0))                       # 24 h left
        await world.act(t["id"], "accept", staff)
        await world.act(t["id"], "request_info", staff)
        world.at(bj(2026, 10, 2, 12, 0))                       # the member answers during the holiday
        await world.say(t["id"], owner, "补充材料")
        body = (await world.get(t["id"], owner)).json()
        assert parse(body["first_response_due_at"]) == bj(2026, 10, 9, 0, 0)


class TestCalendar:
    async def test_unknown_year_falls_back_and_is_flagged(self, world: World, caplog: pytest.LogCaptureFixture
                                                          ) -> None:
        world.at(bj(2026, 12, 30, 10, 0))   # the due time falls in 2027, unknown to the library
        with caplog.at_level(logging.INFO, logger="smartunion.legal_aid.calendar"):
            t = await world.ticket(world.user(), org_id=world.orgs["gz_metro"])
        assert t["calendar_fallback"] is True
        assert parse(t["first_response_due_at"]) == bj(2027, 1, 1, 10, 0)   # Mon–Fri assumed
        records = [r for r in caplog.records if "assumed Monday-Friday" in r.getMessage()]
        assert records and records[0].fields["years"] == [2027]  # type: ignore[attr-defined]
        assert "工地" not in caplog.text

    async def test_admin_overrides_fix_next_year(self, world: World) -> None:
        days = [{"date": "2027-01-01", "workday": False, "note": "元旦"},
                {"date": "2027-01-02", "workday": False}, {"date": "2027-01-03", "workday": False},
                {"date": "2027-01-04", "workday": True}]
        resp = await world.legal.post("/api/v1/legal/calendar/days", json={"days": days}, headers=world.admin)
        assert resp.status_code == 200, resp.text
        assert [d["source"] for d in resp.json()["items"]] == ["override"] * 4
        world.at(bj(2026, 12, 30, 10, 0))
        t = await world.ticket(world.user(), org_id=world.orgs["gz_metro"])
        assert t["calendar_fallback"] is False
        assert parse(t["first_response_due_at"]) == bj(2027, 1, 4, 10, 0)

        # Upsert: the same day again changes it.
        resp = await world.legal.post("/api/v1/legal/calendar/days", headers=world.admin,
                                      json={"days": [{"date": "2027-01-04", "workday": False, "note": "更正"}]})
        assert resp.status_code == 200
        resp = await world.legal.get("/api/v1/legal/calendar/days?from=2026-12-31&to=2027-01-05",
                                     headers=world.user())
        items = {d["date"]: (d["workday"], d["source"]) for d in resp.json()["items"]}
        assert items == {"2026-12-31": (True, "library"), "2027-01-01": (False, "override"),
                         "2027-01-02": (False, "override"), "2027-01-03": (False, "override"),
                         "2027-01-04": (False, "override"), "2027-01-05": (True, "fallback")}

    async def test_only_admin_edits_the_calendar(self, world: World) -> None:
        body = {"days": [{"date": "2027-01-01", "workday": False}]}
        for headers in (world.user(), world.tokens.headers(roles=["lawyer"], phone_masked=None),
                        world.staff["guangzhou"]):
            resp = await world.legal.post("/api/v1/legal/calendar/days", json=body, headers=headers)
            assert resp.status_code == 403
        resp = await world.legal.post("/api/v1/legal/calendar/days", json=body)
        assert resp.status_code == 401

    async def test_bad_ranges(self, world: World) -> None:
        for query in ("from=2026-01-10&to=2026-01-01", "from=2026-01-01&to=2027-06-01",
                      "from=2026-02-30&to=2026-03-01", "from=2026-01-01"):
            resp = await world.legal.get(f"/api/v1/legal/calendar/days?{query}", headers=world.user())
            assert resp.status_code == 422, query
        for body in ({"days": []}, {"days": [{"date": "2027-13-01", "workday": False}]},
                     {"days": [{"date": "2027-01-01"}]}):
            resp = await world.legal.post("/api/v1/legal/calendar/days", json=body, headers=world.admin)
            assert resp.status_code == 422, body

    async def test_library_days_listed(self, world: World) -> None:
        resp = await world.legal.get("/api/v1/legal/calendar/days?from=2026-09-30&to=2026-10-11",
                                     headers=world.user())
        work = [d["date"] for d in resp.json()["items"] if d["workday"]]
        assert work == ["2026-09-30", "2026-10-08", "2026-10-09", "2026-10-10"]


class TestStaffQueue:
    async def test_sort_by_due_time(self, world: World) -> None:
        staff = world.staff["guangzhou"]
        made = []
        for when in (bj(2026, 3, 12, 9, 0), bj(2026, 3, 9, 9, 0), bj(2026, 3, 10, 15, 0), bj(2026, 3, 10, 9, 0)):
            world.at(when)
            made.append(await world.ticket(world.user(), org_id=world.orgs["gz_metro"]))
        expected = [t["id"] for t in sorted(made, key=lambda t: (t["first_response_due_at"], t["id"]))]
        seen: list[str] = []
        cursor = None
        while True:
            params = {"sort": "due", "limit": 3, **({"cursor": cursor} if cursor else {})}
            page = (await world.legal.get("/api/v1/legal/tickets", params=params, headers=staff)).json()
            seen += [i["id"] for i in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert seen == expected
        assert seen[0] == made[1]["id"]
