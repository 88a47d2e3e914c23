"""POST /internal/qr/check is served by a plain ASGI handler (qr/fast.py) in front of the declared
FastAPI route. Every request below goes both to the app as deployed and to a second app on the same
database without the fast route; the answers must match (status, content type, every field, the
request id) for each verdict, each service-token failure and every kind of bad body."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.common.internal_auth import ServiceSigner
from services.membership.config import MembershipSettings
from services.membership.main import create_app
from tests.apps import TEST_INTERNAL_SECRET, running
from tests.fastroutes import count_fast_routes, without_fast_routes
from tests.membership.conftest import World, build_world, service_headers
from tests.tokens import TokenFactory

CHECK = "/internal/qr/check"
JSON = {"content-type": "application/json"}


class Pair:
    def __init__(self, world: World, slow: httpx.AsyncClient, hits: Counter[str]) -> None:
        self.world, self.fast, self.slow, self.hits = world, world.client, slow, hits
        self.seq = 0

    async def both(self, body: bytes, headers: dict[str, str]) -> tuple[Any, Any]:
        answers = []
        for client in (self.fast, self.slow):
            self.seq += 1
            rid = f"rid-{self.seq}"
            resp = await client.post(CHECK, content=body, headers={**headers, "x-request-id": rid})
            assert resp.status_code < 500, resp.text
            assert resp.headers["x-request-id"] == rid
            try:
                answer = resp.json()
            except ValueError:
                answer = resp.text
            if isinstance(answer, dict) and "request_id" in answer:
                assert answer.pop("request_id") == rid
            answers.append((resp.status_code, resp.headers.get("content-type"), answer))
        return answers[0], answers[1]


@pytest.fixture
async def pair(membership_settings: MembershipSettings, tokens: TokenFactory) -> AsyncIterator[Pair]:
    fast_app = create_app(membership_settings, verifier=tokens.verifier())
    hits = count_fast_routes(fast_app)
    slow_app = without_fast_routes(create_app(membership_settings, verifier=tokens.verifier()))
    async with running(fast_app) as fast, running(slow_app) as slow:
        yield Pair(await build_world(fast, tokens), slow, hits)


def body_of(token: Any) -> bytes:
    return json.dumps({"token": token}, ensure_ascii=False).encode()


async def test_every_verdict_answers_alike(pair: Pair) -> None:
    world = pair.world
    headers, app = await world.member()
    live = await world.qr(headers)
    used = await world.qr(headers)
    assert (await world.internal("/internal/qr/consume", {"token": used})).json()["valid"] is True
    s_headers, s_app = await world.member()
    suspended = await world.qr(s_headers)
    resp = await world.client.post(f"/api/v1/membership/members/{s_app['member_id']}/suspend",
                                   json={"reason": "会费长期未缴"}, headers=world.staff["guangzhou"])
    assert resp.status_code == 200
    codec = world.client._transport.app.state.qr  # type: ignore[attr-defined]
    expired, _ = codec.issue(int(time.time()) - 5)  # authentic, past its expiry

    verdicts = []
    for token in (live, used, suspended, expired, "x", "", "会员码", "x\u0000y", "a" * 512, live[:-1] + "A"):
        fast, slow = await pair.both(body_of(token), {**service_headers(), **JSON})
        assert fast == slow, token
        verdicts.append(fast[2])
    assert verdicts[0]["valid"] is True and verdicts[0]["member"]["member_id"] == app["member_id"]
    assert [v["reason"] for v in verdicts[1:4]] == ["used", "suspended", "expired"]
    assert all(v["reason"] == "invalid" for v in verdicts[4:])
    assert pair.hits["fast"] == 10 and pair.hits["fallback"] == 0


async def test_service_token_failures_answer_alike(pair: Pair) -> None:
    user = pair.world.user()
    cases = {
        "none": {},
        "empty": {"x-service-token": ""},
        "garbage": {"x-service-token": "not-a-jwt"},
        "wrong secret": {"x-service-token": ServiceSigner("x" * 40, "benefits").token_for("membership")},
        "wrong audience": {"x-service-token": ServiceSigner(TEST_INTERNAL_SECRET, "benefits").token_for("identity")},
        "user token": user,
    }
    for name, headers in cases.items():
        fast, slow = await pair.both(body_of("x"), {**headers, **JSON})
        assert fast == slow, name
        assert fast[0] == 401 and fast[2]["code"] == "invalid_service_token", name


BAD_BODIES = [
    b"", b"{", b"[]", b"null", b'{"token": 5}', b'{"token": null}', b'{"token": ["x"]}', body_of("a" * 513),
    b'{"token": "x", "extra": 1}', b'{"qr_token": "x"}', b"{}", b'{"token": "x\x00"}', b"\xff\xfe",
    b'{"token": NaN}', b'{"token": "\\ud800"}', b"[" * 5000 + b"]" * 5000,
]


async def test_bad_bodies_answer_alike(pair: Pair) -> None:
    for body in BAD_BODIES:
        for headers in (service_headers(), {}):
            fast, slow = await pair.both(body, {**headers, **JSON})
            assert fast == slow, body[:40]
            assert 400 <= fast[0] < 500 and fast[1] == "application/problem+json", (body[:40], fast)
    for content_type in (None, "text/plain", "application/problem+json", "application/json;charset=utf-8"):
        extra = {"content-type": content_type} if content_type else {}
        fast, slow = await pair.both(body_of("x"), {**service_headers(), **extra})
        assert fast == slow, content_type
    big = b'{"token":"' + b"a" * 2_000_000 + b'"}'
    fast, slow = await pair.both(big, {**service_headers(), **JSON})
    assert fast == slow and fast[0] == 413
    assert pair.hits["fast"] == 1  # only application/json;charset=utf-8 was the plain case
    metrics = (await pair.fast.get("/metrics")).text
    assert f'route="{CHECK}",service="membership",status="200"' in metrics
