"""Notifications to the ticket owner (CONTRACT §9): a public reply by staff or the assignee is a
`ticket_reply`, a status change by them a `ticket_status`; internal notes and the owner's own
actions say nothing. Each is written to the outbox in the transaction of the fact."""

from __future__ import annotations

import json
from typing import Any

import jwt
from sqlalchemy import select

from services.legal_aid.events.models import OutboxEvent
from tests.legal_aid.conftest import World


async def _notices(world: World) -> list[dict[str, Any]]:
    async with world.legal_app.state.db.sessionmaker() as session:
        rows = await session.scalars(select(OutboxEvent).order_by(OutboxEvent.created_at, OutboxEvent.id))
        out = []
        for row in rows:
            assert row.topic == "notification"
            out.append(json.loads(row.payload))
        return out


def _sub(headers: dict[str, str]) -> str:
    return str(jwt.decode(headers["authorization"].split()[1], options={"verify_signature": False})["sub"])


async def test_replies_and_status_changes_reach_the_owner_only(world: World) -> None:
    owner = await world.member()
    lawyer = await world.lawyer("gz", "guangzhou")
    t = await world.ticket(owner)
    assert (await world.assign(t["id"], "gz")).status_code == 200
    assert await _notices(world) == []  # submitting and assigning tell the owner nothing

    steps = [
        (world.act(t["id"], "accept", lawyer), ["ticket_status"]),
        (world.say(t["id"], lawyer, "您好，我是承办律师。"), ["ticket_reply"]),
        (world.say(t["id"], lawyer, "内部：需核实工地资质", internal=True), []),
        (world.say(t["id"], owner, "好的，谢谢律师"), []),
        # The note of request_info is posted as a reply too: one notice, not two.
        (world.act(t["id"], "request_info", lawyer, note="请上传劳动合同"), ["ticket_status"]),
        (world.say(t["id"], owner, "已上传"), []),  # the owner's reply moves it back to accepted: silent
        (world.say(t["id"], world.staff["guangzhou"], "工会已介入协调"), ["ticket_reply"]),
        (world.act(t["id"], "resolve", lawyer, note="已调解"), ["ticket_status"]),
        (world.act(t["id"], "close", world.staff["guangzhou"]), ["ticket_status"]),
    ]
    expected: list[str] = []
    for call, kinds in steps:
        resp = await call
        assert resp.status_code in (200, 201), resp.text
        expected += kinds
        assert [n["kind"] for n in await _notices(world)] == expected

    notices = await _notices(world)
    assert {n["account_id"] for n in notices} == {_sub(owner)}
    assert {n["link"] for n in notices} == {f"/legal/tickets/{t['id']}"}
    assert [n["body"] for n in notices if n["kind"] == "ticket_status"] == [
        "您的法律援助咨询已受理，律师将尽快与您联系。", "律师需要您补充信息，请查看回复并尽快补充。",
        "您的法律援助咨询已办结，欢迎对本次服务进行评价。", "您的法律援助咨询已关闭。"]
    text = json.dumps(notices, ensure_ascii=False)
    for secret in ("钢筋工", "工地拖欠", "某某建设", "请上传劳动合同", "内部", "工会已介入"):
        assert secret not in text  # case text stays encrypted in legal_aid


async def test_rejection_and_refused_actions(world: World) -> None:
    owner = await world.member()
    t = await world.ticket(owner)
    bad = await world.act(t["id"], "resolve", world.staff["guangzhou"])
    assert bad.status_code == 409  # refused: no half-written notice
    other = await world.act(t["id"], "reject", world.staff["shenzhen"], note="不在辖区")
    assert other.status_code == 404
    assert await _notices(world) == []
    resp = await world.act(t["id"], "reject", world.staff["guangzhou"], note="不属于劳动争议")
    assert resp.status_code == 200
    notices = await _notices(world)
    assert [(n["kind"], n["body"]) for n in notices] == [("ticket_status", "您的法律援助咨询未被受理，请查看原因。")]
