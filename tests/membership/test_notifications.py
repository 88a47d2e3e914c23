"""Notifications from membership (CONTRACT §9): written to the outbox in the transaction of the
decision itself, delivered to identity's `/internal/events` at least once — a refused or failed
delivery stays pending and goes out on a later pass."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import select

from services.membership.config import MembershipSettings
from services.membership.events.models import OutboxEvent
from services.membership.main import create_app
from tests.apps import TEST_INTERNAL_SECRET, running
from tests.membership.conftest import World, build_world
from tests.tokens import TokenFactory


class Identity:
    """Stands in for identity's event endpoint: records what arrives, can be 'down'."""

    def __init__(self) -> None:
        self.up = True
        self.received: list[dict[str, Any]] = []
        self.callers: list[dict[str, Any]] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        if not self.up:
            raise httpx.ConnectError("identity is down", request=request)
        assert request.url.path == "/internal/events"
        self.callers.append(jwt.decode(request.headers["x-service-token"], TEST_INTERNAL_SECRET,
                                       algorithms=["HS256"], audience="identity"))
        self.received.append(json.loads(request.content))
        return httpx.Response(200, json={"status": "ok"})


@pytest.fixture
def identity() -> Identity:
    return Identity()


@pytest.fixture
async def world(membership_settings: MembershipSettings, tokens: TokenFactory,
                identity: Identity) -> AsyncIterator[World]:
    settings = membership_settings.model_copy(update={"outbox_interval": 0})
    app = create_app(settings, verifier=tokens.verifier(),
                     transports={"identity": httpx.MockTransport(identity.handler)})
    async with running(app) as client:
        yield await build_world(client, tokens)


def _app(world: World) -> Any:
    return world.client._transport.app  # type: ignore[attr-defined]


async def _outbox(world: World) -> list[OutboxEvent]:
    async with _app(world).state.db.sessionmaker() as session:
        return list(await session.scalars(select(OutboxEvent).order_by(OutboxEvent.created_at)))


def _sub(headers: dict[str, str]) -> str:
    token = headers["authorization"].split()[1]
    return str(jwt.decode(token, options={"verify_signature": False})["sub"])


async def test_decisions_and_transfer_become_notifications(world: World, identity: Identity) -> None:
    approved_headers, _ = await world.member()
    rejected_headers = world.user()
    resp = await world.apply(rejected_headers)
    rejected_id = resp.json()["id"]
    resp = await world.client.post(f"/api/v1/membership/applications/{rejected_id}/reject",
                                   json={"reason": "身份证照片不清晰"}, headers=world.staff["guangzhou"])
    assert resp.status_code == 200, resp.text
    resp = await world.client.post("/api/v1/membership/transfers", json={"to_org_id": world.orgs["sz_port"],
                                                                         "reason": "工作调动"},
                                   headers=approved_headers)
    transfer = resp.json()
    resp = await world.client.post(f"/api/v1/membership/transfers/{transfer['id']}/approve",
                                   headers=world.staff["shenzhen"])
    assert resp.status_code == 200, resp.text

    rows = await _outbox(world)
    assert [r.topic for r in rows] == ["notification"] * 3 and all(r.delivered_at is None for r in rows)
    payloads = [json.loads(r.payload) for r in rows]
    assert [(p["kind"], p["account_id"]) for p in payloads] == [
        ("application_approved", _sub(approved_headers)),
        ("application_rejected", _sub(rejected_headers)),
        ("transfer_completed", _sub(approved_headers)),
    ]
    assert payloads[0]["body"] == "欢迎加入广州地铁集团工会！您的会员卡已生成，可在“我的会员卡”中查看。"
    assert payloads[1]["link"] == f"/membership/applications/{rejected_id}"
    assert "深圳港集团工会" in payloads[2]["body"]
    text = json.dumps(payloads, ensure_ascii=False)
    # No personal data in the notices: names, ID numbers and reasons stay in membership.
    assert "张三丰" not in text and "440106" not in text and "身份证照片" not in text

    # identity down: nothing is lost, nothing is marked delivered.
    identity.up = False
    assert await _app(world).state.outbox.deliver_pending() == 0
    assert all(r.delivered_at is None for r in await _outbox(world))
    identity.up = True
    assert await _app(world).state.outbox.deliver_pending() == 3
    assert [e["id"] for e in identity.received] == [r.id for r in rows]
    assert {c["iss"] for c in identity.callers} == {"membership"}
    assert all(r.delivered_at is not None for r in await _outbox(world))
    assert await _app(world).state.outbox.deliver_pending() == 0
    assert len(identity.received) == 3


async def test_refused_decision_emits_nothing(world: World) -> None:
    _, application = await world.member()
    again = await world.client.post(f"/api/v1/membership/applications/{application['id']}/approve",
                                    headers=world.staff["guangzhou"])
    assert again.status_code == 409
    other_city = await world.client.post(f"/api/v1/membership/applications/{application['id']}/reject",
                                         json={"reason": "x"}, headers=world.staff["shenzhen"])
    assert other_city.status_code == 404
    assert [json.loads(r.payload)["kind"] for r in await _outbox(world)] == ["application_approved"]
