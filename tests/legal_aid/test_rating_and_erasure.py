"""Rating once after the end; account.closed anonymises the person's tickets."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import text

from services.legal_aid.config import LegalAidSettings
from tests.legal_aid.conftest import World
from tests.legal_aid.test_attachments import PDF, PNG, stored_files, upload


async def finished(world: World, owner: dict[str, str], last: str = "resolve") -> dict[str, Any]:
    t = await world.ticket(owner, org_id=world.orgs["gz_metro"])
    await world.act(t["id"], "accept", world.staff["guangzhou"])
    await world.act(t["id"], "resolve", world.staff["guangzhou"])
    if last == "close":
        await world.act(t["id"], "close", world.staff["guangzhou"])
    return t


async def rate(world: World, ticket_id: str, headers: dict[str, str], score: Any = 5,
               comment: str | None = "律师很耐心") -> Any:
    return await world.legal.post(f"/api/v1/legal/tickets/{ticket_id}/rating", json={"score": score,
                                                                                   "comment": comment},
                                  headers=headers)


class TestRating:
    async def test_owner_rates_once(self, world: World) -> None:
        for last in ("resolve", "close"):
            owner = world.user()
            t = await finished(world, owner, last)
            resp = await rate(world, t["id"], owner)
            assert resp.status_code == 201
            assert resp.json()["score"] == 5 and resp.json()["comment"] == "律师很耐心"
            again = await rate(world, t["id"], owner, score=1)
            assert again.status_code == 409 and again.json()["code"] == "already_rated"
            shown = (await world.get(t["id"], owner)).json()["rating"]
            assert shown["score"] == 5

    async def test_concurrent_ratings_one_wins(self, world: World) -> None:
        owner = world.user()
        t = await finished(world, owner)
        results = await asyncio.gather(*(rate(world, t["id"], owner, score=s) for s in (1, 2, 3, 4)))
        assert sorted(r.status_code for r in results) == [201, 409, 409, 409]

    async def test_not_before_the_end(self, world: World) -> None:
        for status_actions in ([], ["accept"], ["accept", "request_info"]):
            owner = world.user()
            t = await world.ticket(owner, org_id=world.orgs["gz_metro"])
            for action in status_actions:
                await world.act(t["id"], action, world.staff["guangzhou"])
            resp = await rate(world, t["id"], owner)
            assert resp.status_code == 409 and resp.json()["code"] == "not_rateable"

    async def test_rejected_tickets_are_not_rated(self, world: World) -> None:
        owner = world.user()
        t = await world.ticket(owner, org_id=world.orgs["gz_metro"])
        await world.act(t["id"], "reject", world.staff["guangzhou"], note="不予受理")
        assert (await rate(world, t["id"], owner)).status_code == 409

    async def test_only_the_owner(self, world: World) -> None:
        owner = world.user()
        t = await finished(world, owner)
        assert (await rate(world, t["id"], world.staff["guangzhou"])).status_code == 403
        assert (await rate(world, t["id"], world.admin)).status_code == 403
        assert (await rate(world, t["id"], world.user())).status_code == 404

    async def test_score_range(self, world: World) -> None:
        owner = world.user()
        t = await finished(world, owner)
        for score in (0, 6, "five", None, 4.5):
            resp = await rate(world, t["id"], owner, score=score)
            assert resp.status_code == 422, score
        assert (await world.get(t["id"], owner)).json()["rating"] is None


class TestAccountClosed:
    async def test_tickets_are_anonymised_and_the_trail_kept(self, world: World,
                                                             legal_settings: LegalAidSettings) -> None:
        member = await world.member("gz_metro")
        staff = world.staff["guangzhou"]
        lawyer = await world.lawyer("gz", "guangzhou")
        done = await finished(world, member)
        await world.say(done["id"], member, "我叫王五，电话13912345678")
        await rate(world, done["id"], member, comment="王五很满意")
        open_ = await world.ticket(member)
        await world.assign(open_["id"], "gz")
        await world.act(open_["id"], "accept", lawyer)
        await world.say(open_["id"], lawyer, "请提供工资条")
        await world.say(open_["id"], staff, "内部：王五的情况", internal=True)
        own_file = (await upload(world, open_["id"], member, PDF, "王五的工资条.pdf")).json()
        staff_file = (await upload(world, open_["id"], staff, PNG, "回执.png", "image/png")).json()
        other = await world.ticket(world.user(), org_id=world.orgs["gz_metro"])
        events_before = (await world.legal.get(f"/api/v1/legal/tickets/{open_['id']}/events",
                                               headers=staff)).json()["items"]

        owner_id = done["owner_id"]
        resp = await world.event("account.closed", {"account_id": owner_id})
        assert resp.status_code == 200 and resp.json() == {"status": "ok"}

        for t in (done, open_):
            body = (await world.get(t["id"], staff)).json()
            assert body["title"] == "（咨询人已注销）"
            assert body["description"] == "" and body["employer_name"] is None
            assert body["owner_id"] == owner_id
            assert body["category"] == "wage_arrears" and body["amount_involved_fen"] == 2_400_000
        assert (await world.get(done["id"], staff)).json()["rating"]["comment"] is None
        assert (await world.get(done["id"], staff)).json()["rating"]["score"] == 5
        # The open case is closed, visibly.
        body = (await world.get(open_["id"], staff)).json()
        assert body["status"] == "closed"
        events_after = (await world.legal.get(f"/api/v1/legal/tickets/{open_['id']}/events",
                                              headers=staff)).json()["items"]
        assert events_after[:len(events_before)] == events_before
        assert events_after[-1]["action"] == "owner_account_closed" and events_after[-1]["to_status"] == "closed"
        # The owner's words are gone, the staff's remain.
        messages = (await world.legal.get(f"/api/v1/legal/tickets/{done['id']}/messages",
                                          headers=staff)).json()["items"]
        assert [(m["body"], m["redacted"]) for m in messages] == [("", True)]
        messages = (await world.legal.get(f"/api/v1/legal/tickets/{open_['id']}/messages",
                                          headers=staff)).json()["items"]
        assert [m["body"] for m in messages] == ["请提供工资条", "内部：王五的情况"]
        # The owner's file is deleted; the staff's is not.
        assert (await world.legal.get(f"/api/v1/legal/attachments/{own_file['id']}",
                                      headers=staff)).status_code == 404
        assert (await world.legal.get(f"/api/v1/legal/attachments/{staff_file['id']}",
                                      headers=staff)).status_code == 200
        assert len(stored_files(legal_settings)) == 1
        # Someone else's ticket is untouched.
        assert (await world.get(other["id"], staff)).json()["title"] == "工地拖欠三个月工资"
        # Nothing readable is left in the database either.
        async with world.legal_app.state.db.engine.connect() as conn:
            names = (await conn.execute(text("SELECT filename_enc FROM attachments WHERE id = :id"),
                                        {"id": own_file["id"]})).scalar_one()
        assert names == ""

    async def test_idempotent_and_unknown_topics(self, world: World) -> None:
        owner = world.user()
        t = await world.ticket(owner, org_id=world.orgs["gz_metro"])
        owner_id = t["owner_id"]
        for _ in range(2):
            resp = await world.event("account.closed", {"account_id": owner_id}, event_id="evt-42")
            assert resp.status_code == 200 and resp.json() == {"status": "ok"}
        # A new event id for the same account is also harmless.
        assert (await world.event("account.closed", {"account_id": owner_id}, event_id="evt-43")).status_code == 200
        events = (await world.legal.get(f"/api/v1/legal/tickets/{t['id']}/events",
                                        headers=world.admin)).json()["items"]
        assert [e["action"] for e in events] == ["submit", "owner_account_closed"]
        resp = await world.event("member.moved", {"account_id": owner_id}, event_id="evt-44")
        assert resp.status_code == 200 and resp.json() == {"status": "ignored"}

    async def test_only_identity_may_send_events(self, world: World) -> None:
        resp = await world.event("account.closed", {"account_id": "x"}, caller="jobs")
        assert resp.status_code == 401
        resp = await world.legal.post("/internal/events", json={"id": "e", "topic": "account.closed",
                                                                "payload": {"account_id": "x"}})
        assert resp.status_code == 401
