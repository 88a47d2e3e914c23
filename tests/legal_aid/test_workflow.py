"""Assignment and the state machine, with its audit trail."""

from __future__ import annotations

import itertools
from typing import Any

from tests.legal_aid.conftest import LAWYER_PASSWORD, World

ALL_ACTIONS = ("accept", "reject", "request_info", "resolve", "close")
# The contract's graph: submitted → accepted ⇄ waiting_member → resolved → closed; submitted → rejected.
ALLOWED = {
    ("submitted", "accept"): "accepted",
    ("submitted", "reject"): "rejected",
    ("accepted", "request_info"): "waiting_member",
    ("accepted", "resolve"): "resolved",
    ("waiting_member", "accept"): "accepted",
    ("waiting_member", "resolve"): "resolved",
    ("resolved", "close"): "closed",
}
# How to bring a fresh ticket into each state.
PATHS = {
    "submitted": [],
    "accepted": ["accept"],
    "waiting_member": ["accept", "request_info"],
    "resolved": ["accept", "resolve"],
    "closed": ["accept", "resolve", "close"],
    "rejected": ["reject"],
}


async def ticket_in(world: World, status: str) -> dict[str, Any]:
    t = await world.ticket(world.user(), org_id=world.orgs["gz_metro"])
    for action in PATHS[status]:
        resp = await world.act(t["id"], action, world.staff["guangzhou"], note="理由")
        assert resp.status_code == 200, resp.text
    return t


class TestStateMachine:
    async def test_every_action_from_every_state(self, world: World) -> None:
        for status, action in itertools.product(PATHS, ALL_ACTIONS):
            t = await ticket_in(world, status)
            resp = await world.act(t["id"], action, world.staff["guangzhou"], note="处理意见")
            expected = ALLOWED.get((status, action))
            if expected is None:
                assert resp.status_code == 409, (status, action)
                assert resp.json()["code"] == "invalid_transition"
                assert (await world.get(t["id"], world.admin)).json()["status"] == status
            else:
                assert resp.status_code == 200, (status, action, resp.text)
                assert resp.json()["status"] == expected

    async def test_reject_needs_a_note(self, world: World) -> None:
        t = await ticket_in(world, "submitted")
        for note in (None, "", "   "):
            resp = await world.act(t["id"], "reject", world.staff["guangzhou"], note=note)
            assert resp.status_code == 422
            assert resp.json()["code"] == "validation_error"
        resp = await world.act(t["id"], "reject", world.staff["guangzhou"], note="不属于劳动争议，建议咨询消费者协会")
        assert resp.status_code == 200 and resp.json()["status"] == "rejected"

    async def test_reject_note_reaches_the_member(self, world: World) -> None:
        owner = world.user()
        t = await world.ticket(owner, org_id=world.orgs["gz_metro"])
        await world.act(t["id"], "reject", world.staff["guangzhou"], note="不属于劳动争议")
        items = (await world.legal.get(f"/api/v1/legal/tickets/{t['id']}/messages", headers=owner)).json()["items"]
        assert [m["body"] for m in items] == ["不属于劳动争议"]
        assert items[0]["author_role"] == "staff"

    async def test_unknown_action(self, world: World) -> None:
        t = await ticket_in(world, "submitted")
        resp = await world.act(t["id"], "reopen", world.staff["guangzhou"])
        assert resp.status_code == 422

    async def test_owner_cannot_act(self, world: World) -> None:
        owner = world.user()
        t = await world.ticket(owner, org_id=world.orgs["gz_metro"])
        resp = await world.act(t["id"], "accept", owner)
        assert resp.status_code == 403
        assert resp.json()["code"] == "forbidden"

    async def test_assignee_can_act(self, world: World) -> None:
        t = await ticket_in(world, "submitted")
        lawyer = await world.lawyer("gz", "guangzhou")
        await world.assign(t["id"], "gz")
        for action, status in (("accept", "accepted"), ("request_info", "waiting_member"), ("resolve", "resolved"),
                               ("close", "closed")):
            resp = await world.act(t["id"], action, lawyer, note="好的")
            assert resp.status_code == 200, resp.text
            assert resp.json()["status"] == status


class TestAssignment:
    async def test_assign_and_reassign_are_recorded(self, world: World) -> None:
        t = await ticket_in(world, "submitted")
        await world.lawyer("a", "guangzhou")
        await world.lawyer("b", "guangdong")  # a province lawyer covers the city's unions too
        resp = await world.assign(t["id"], "a")
        assert resp.status_code == 200 and resp.json()["assignee_id"] == world.lawyers["a"]
        resp = await world.assign(t["id"], "b")
        assert resp.status_code == 200 and resp.json()["assignee_id"] == world.lawyers["b"]

        events = (await world.legal.get(f"/api/v1/legal/tickets/{t['id']}/events",
                                        headers=world.staff["guangzhou"])).json()["items"]
        trail = [(e["action"], e["from_assignee_id"], e["to_assignee_id"]) for e in events]
        assert trail == [("submit", None, None), ("assign", None, world.lawyers["a"]),
                         ("reassign", world.lawyers["a"], world.lawyers["b"])]
        # The previous assignee no longer sees the ticket.
        resp = await world.get(t["id"], world.lawyer_headers("a", "guangzhou"))
        assert resp.status_code == 404

    async def test_invalid_assignees(self, world: World) -> None:
        t = await ticket_in(world, "submitted")
        await world.lawyer("sz", "shenzhen")                     # another city
        await world.lawyer("metro", "gz_metro")                  # below the ticket's org? same org: fine
        await world.lawyer("no_org", None)                       # no scope
        await world.lawyer("staff", "guangzhou", roles=("staff",))  # not a lawyer
        for key in ("sz", "no_org", "staff", "0" * 32, "../../x"):
            resp = await world.assign(t["id"], key)
            assert resp.status_code == 422, key
            assert resp.json()["code"] == "invalid_assignee"
        assert (await world.assign(t["id"], "metro")).status_code == 200

    async def test_lawyer_below_the_ticket_org_does_not_cover_it(self, world: World) -> None:
        t = await world.ticket(world.user(), org_id=world.orgs["guangzhou"])
        await world.lawyer("metro", "gz_metro")
        resp = await world.assign(t["id"], "metro")
        assert resp.status_code == 422 and resp.json()["code"] == "invalid_assignee"

    async def test_closed_lawyer_account_is_invalid(self, world: World) -> None:
        t = await ticket_in(world, "submitted")
        await world.lawyer("gone", "guangzhou")
        resp = await world.identity.post("/api/v1/auth/password/login",
                                         json={"username": "lawyer-gone", "password": LAWYER_PASSWORD})
        token = resp.json()["access_token"]
        resp = await world.identity.delete("/api/v1/me", headers={"authorization": f"Bearer {token}"})
        assert resp.status_code == 202
        resp = await world.assign(t["id"], "gone")
        assert resp.status_code == 422 and resp.json()["code"] == "invalid_assignee"

    async def test_only_staff_in_scope_assign(self, world: World) -> None:
        owner = world.user()
        t = await world.ticket(owner, org_id=world.orgs["gz_metro"])
        lawyer = await world.lawyer("gz", "guangzhou")
        assert (await world.assign(t["id"], "gz")).status_code == 200
        assert (await world.assign(t["id"], "gz", headers=owner)).status_code == 403
        assert (await world.assign(t["id"], "gz", headers=lawyer)).status_code == 403
        assert (await world.assign(t["id"], "gz", headers=world.staff["shenzhen"])).status_code == 404
        assert (await world.assign(t["id"], "gz", headers=world.admin)).status_code == 200

    async def test_no_assignment_after_the_end(self, world: World) -> None:
        await world.lawyer("gz", "guangzhou")
        for status in ("resolved", "closed", "rejected"):
            t = await ticket_in(world, status)
            resp = await world.assign(t["id"], "gz")
            assert resp.status_code == 409 and resp.json()["code"] == "invalid_transition"
        for status in ("accepted", "waiting_member"):
            t = await ticket_in(world, status)
            assert (await world.assign(t["id"], "gz")).status_code == 200


class TestEvents:
    async def test_trail_records_actor_from_to_note_time(self, world: World) -> None:
        owner = world.user()
        t = await world.ticket(owner, org_id=world.orgs["gz_metro"])
        staff = world.staff["guangzhou"]
        await world.act(t["id"], "accept", staff, note="已受理")
        await world.act(t["id"], "request_info", staff, note="请上传工资条")
        await world.say(t["id"], owner, "已上传")
        resp = await world.legal.get(f"/api/v1/legal/tickets/{t['id']}/events", headers=staff)
        assert resp.status_code == 200
        events = resp.json()["items"]
        assert [(e["action"], e["from_status"], e["to_status"], e["note"]) for e in events] == [
            ("submit", None, "submitted", None),
            ("accept", "submitted", "accepted", "已受理"),
            ("request_info", "accepted", "waiting_member", "请上传工资条"),
            ("member_reply", "waiting_member", "accepted", None),
        ]
        assert events[0]["actor_id"] == t["owner_id"] and events[3]["actor_id"] == t["owner_id"]
        assert events[1]["actor_id"] != t["owner_id"]
        assert all(e["created_at"] for e in events)

    async def test_who_reads_the_trail(self, world: World) -> None:
        owner = world.user()
        t = await world.ticket(owner, org_id=world.orgs["gz_metro"])
        lawyer = await world.lawyer("gz", "guangzhou")
        await world.assign(t["id"], "gz")
        url = f"/api/v1/legal/tickets/{t['id']}/events"
        assert (await world.legal.get(url, headers=lawyer)).status_code == 200
        assert (await world.legal.get(url, headers=world.staff["gz_metro"])).status_code == 200
        assert (await world.legal.get(url, headers=owner)).status_code == 403
        assert (await world.legal.get(url, headers=world.staff["shenzhen"])).status_code == 404
        assert (await world.legal.get(url, headers=world.user())).status_code == 404

    async def test_trail_pagination(self, world: World) -> None:
        t = await ticket_in(world, "closed")
        url = f"/api/v1/legal/tickets/{t['id']}/events"
        first = (await world.legal.get(f"{url}?limit=2", headers=world.admin)).json()
        second = (await world.legal.get(f"{url}?limit=2&cursor={first['next_cursor']}", headers=world.admin)).json()
        assert [e["action"] for e in first["items"] + second["items"]] == ["submit", "accept", "resolve", "close"]
        assert second["next_cursor"] is None
