"""Public replies and internal notes."""

from __future__ import annotations

from tests.legal_aid.conftest import World


class TestInternalNotes:
    async def test_owner_never_sees_internal_notes(self, world: World) -> None:
        owner = world.user()
        t = await world.ticket(owner, org_id=world.orgs["gz_metro"])
        lawyer = await world.lawyer("gz", "guangzhou")
        await world.assign(t["id"], "gz")
        staff = world.staff["guangzhou"]
        assert (await world.say(t["id"], staff, "您好，已收到。")).status_code == 201
        resp = await world.say(t["id"], staff, "此人曾多次投诉，注意核实。", internal=True)
        assert resp.status_code == 201 and resp.json()["internal"] is True
        assert (await world.say(t["id"], lawyer, "证据不足，需要考勤记录。", internal=True)).status_code == 201
        assert (await world.say(t["id"], owner, "谢谢！")).status_code == 201

        url = f"/api/v1/legal/tickets/{t['id']}/messages"
        mine = (await world.legal.get(url, headers=owner)).json()["items"]
        assert [m["body"] for m in mine] == ["您好，已收到。", "谢谢！"]
        assert not any(m["internal"] for m in mine)
        assert (await world.get(t["id"], owner)).json()["message_count"] == 2
        listed = (await world.legal.get("/api/v1/legal/tickets", headers=owner)).json()["items"]
        assert listed[0]["message_count"] == 2

        for headers in (staff, lawyer, world.admin):
            everything = (await world.legal.get(url, headers=headers)).json()["items"]
            assert len(everything) == 4
            assert [m["internal"] for m in everything] == [False, True, True, False]
            assert (await world.get(t["id"], headers)).json()["message_count"] == 4

    async def test_member_cannot_post_internal(self, world: World) -> None:
        owner = world.user()
        t = await world.ticket(owner, org_id=world.orgs["gz_metro"])
        resp = await world.say(t["id"], owner, "我想悄悄说", internal=True)
        assert resp.status_code == 403 and resp.json()["code"] == "forbidden"
        items = (await world.legal.get(f"/api/v1/legal/tickets/{t['id']}/messages", headers=world.admin)).json()
        assert items["items"] == []

    async def test_staff_owner_does_not_see_internal_notes_on_own_ticket(self, world: World) -> None:
        # A staff member asking for help for themselves is the member here.
        me = world.staff["gz_metro"]
        t = await world.ticket(me, org_id=world.orgs["gz_metro"])
        await world.say(t["id"], world.staff["guangzhou"], "内部", internal=True)
        items = (await world.legal.get(f"/api/v1/legal/tickets/{t['id']}/messages", headers=me)).json()["items"]
        assert items == []
        assert (await world.say(t["id"], me, "内部", internal=True)).status_code == 403


class TestReplies:
    async def test_owner_reply_while_waiting_returns_to_accepted(self, world: World) -> None:
        owner = world.user()
        t = await world.ticket(owner, org_id=world.orgs["gz_metro"])
        staff = world.staff["guangzhou"]
        await world.act(t["id"], "accept", staff)
        resp = await world.act(t["id"], "request_info", staff, note="请补充劳动合同照片")
        assert resp.json()["status"] == "waiting_member" and resp.json()["clock_paused"] is True
        # A staff reply does not end the wait; an internal note neither.
        await world.say(t["id"], staff, "另外请提供考勤记录")
        await world.say(t["id"], staff, "等待中", internal=True)
        assert (await world.get(t["id"], owner)).json()["status"] == "waiting_member"
        assert (await world.say(t["id"], owner, "已补充")).status_code == 201
        body = (await world.get(t["id"], owner)).json()
        assert body["status"] == "accepted" and body["clock_paused"] is False

    async def test_request_info_note_is_a_public_reply(self, world: World) -> None:
        owner = world.user()
        t = await world.ticket(owner, org_id=world.orgs["gz_metro"])
        await world.act(t["id"], "accept", world.staff["guangzhou"], note="内部受理说明")
        await world.act(t["id"], "request_info", world.staff["guangzhou"], note="请补充劳动合同照片")
        items = (await world.legal.get(f"/api/v1/legal/tickets/{t['id']}/messages", headers=owner)).json()["items"]
        assert [m["body"] for m in items] == ["请补充劳动合同照片"]

    async def test_no_public_reply_after_the_end(self, world: World) -> None:
        owner = world.user()
        t = await world.ticket(owner, org_id=world.orgs["gz_metro"])
        await world.act(t["id"], "reject", world.staff["guangzhou"], note="不予受理")
        resp = await world.say(t["id"], owner, "为什么？")
        assert resp.status_code == 409 and resp.json()["code"] == "ticket_closed"
        assert (await world.say(t["id"], world.staff["guangzhou"], "备注", internal=True)).status_code == 201

    async def test_body_validation(self, world: World) -> None:
        owner = world.user()
        t = await world.ticket(owner, org_id=world.orgs["gz_metro"])
        for body in ({"body": ""}, {"body": "   "}, {"body": "x" * 10_001}, {}, {"body": "hi", "extra": 1}):
            resp = await world.legal.post(f"/api/v1/legal/tickets/{t['id']}/messages", json=body, headers=owner)
            assert resp.status_code == 422, body

    async def test_message_pagination_oldest_first(self, world: World) -> None:
        owner = world.user()
        t = await world.ticket(owner, org_id=world.orgs["gz_metro"])
        for i in range(5):
            await world.say(t["id"], owner, f"第{i}条")
        url = f"/api/v1/legal/tickets/{t['id']}/messages"
        bodies: list[str] = []
        cursor = None
        while True:
            page = (await world.legal.get(url, params={"limit": 2, **({"cursor": cursor} if cursor else {})},
                                          headers=owner)).json()
            bodies += [m["body"] for m in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert bodies == [f"第{i}条" for i in range(5)]
