"""POST /api/v1/merchant/verify is served by a plain ASGI handler (merchant_api/fast.py) in front of
the declared FastAPI route. Proof that it answers exactly as the FastAPI route does: every request
below goes both to the normal app and to a replica of it without the fast route (same database,
same membership), and the answers must match — status, content type, every field of the body, the
request id — for good requests, each signature failure, and every kind of bad body."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from services.benefits.config import BenefitsSettings
from services.benefits.main import create_app
from services.benefits.merchant_api.signing import signed_headers
from services.common.internal_auth import ServiceSigner
from tests.apps import TEST_INTERNAL_SECRET, running, transport
from tests.benefits.conftest import Pos, World
from tests.fastroutes import count_fast_routes, without_fast_routes
from tests.tokens import TokenFactory

VERIFY = "/api/v1/merchant/verify"
JSON = {"content-type": "application/json"}


class Pair:
    """The same benefits service twice: `fast` as deployed, `slow` with FastAPI's route only."""

    def __init__(self, fast: httpx.AsyncClient, slow: httpx.AsyncClient, hits: Counter[str], pos: Pos,
                 merchant_id: str = "") -> None:
        self.fast, self.slow, self.hits, self.pos, self.merchant_id = fast, slow, hits, pos, merchant_id
        self.seq = 0

    def signed(self, body: bytes, *, secret: str | None = None, key_id: str | None = None,
               path: str = VERIFY, **overrides: str) -> dict[str, str]:
        self.seq += 1
        headers = signed_headers(key_id or self.pos.key_id, secret or self.pos.secret, "POST", path, body,
                                 nonce=f"pair-{time.time_ns()}-{self.seq:06d}")
        headers.update(overrides)
        return headers

    async def both(self, body: bytes, make_headers: Callable[[], dict[str, str]]) -> tuple[Any, Any]:
        """Send one request to each app (headers built twice: each gets its own nonce)."""
        answers = []
        for client in (self.fast, self.slow):
            self.seq += 1
            rid = f"rid-{self.seq}"
            resp = await client.post(VERIFY, content=body, headers={**make_headers(), "x-request-id": rid})
            answers.append(shape(resp, rid))
        return answers[0], answers[1]


def shape(resp: httpx.Response, rid: str) -> tuple[int, str | None, Any]:
    """What must be the same: status, content type, body (the request id checked separately)."""
    assert resp.status_code < 500 or resp.status_code == 503, resp.text
    assert resp.headers["x-request-id"] == rid
    try:
        body = resp.json()
    except ValueError:
        body = resp.text
    if isinstance(body, dict) and "request_id" in body:
        assert body.pop("request_id") == rid
    return resp.status_code, resp.headers.get("content-type"), body


@pytest.fixture
async def pair(world: World, benefits_settings: BenefitsSettings, tokens: TokenFactory) -> AsyncIterator[Pair]:
    membership = transport(world.membership._transport.app)  # type: ignore[attr-defined]
    fast_app = create_app(benefits_settings, verifier=tokens.verifier(), transports={"membership": membership})
    hits = count_fast_routes(fast_app)
    slow_app = without_fast_routes(create_app(benefits_settings, verifier=tokens.verifier(),
                                              transports={"membership": membership}))
    m = await world.merchant()
    pos = await world.pos(m["id"])
    async with running(fast_app) as fast, running(slow_app) as slow:
        yield Pair(fast, slow, hits, pos, m["id"])


def body_of(token: Any) -> bytes:
    return json.dumps({"qr_token": token}, ensure_ascii=False).encode()


async def test_good_requests_answer_alike(pair: Pair, world: World) -> None:
    headers, _ = await world.member()
    live = await world.qr(headers)
    used = await world.qr(headers)
    service = {"x-service-token": ServiceSigner(TEST_INTERNAL_SECRET, "benefits").token_for("membership")}
    assert (await world.membership.post("/internal/qr/consume", json={"token": used}, headers=service)).json()["valid"]
    suspended_headers, suspended_id = await world.member()
    suspended = await world.qr(suspended_headers)
    resp = await world.membership.post(f"/api/v1/membership/members/{suspended_id}/suspend",
                                       json={"reason": "会费长期未缴"}, headers=world.staff["guangzhou"])
    assert resp.status_code == 200, resp.text

    seen = []
    for token in (live, used, suspended, "x", "会员码", "x\u0000y", "a" * 512, live[:-1] + "A"):
        body = body_of(token)
        fast, slow = await pair.both(body, lambda b=body: {**pair.signed(b), **JSON})  # type: ignore[misc]
        assert fast == slow, token
        seen.append(fast[2])
    assert seen[0]["valid"] is True and seen[0]["member"]["card_no_masked"]
    assert [s["reason"] for s in seen[1:4]] == ["used", "suspended", "invalid"]
    assert pair.hits["fast"] == 8 and pair.hits["fallback"] == 0
    # a verify never consumes: the live code is still good
    assert (await Pos(pair.fast, pair.pos.key_id, pair.pos.secret).verify(live)).json()["valid"] is True


async def test_each_signature_failure_answers_alike(pair: Pair) -> None:
    body = body_of("x")
    old = str(int(time.time()) - 301)
    cases: dict[str, Callable[[], dict[str, str]]] = {
        "unknown_merchant_key": lambda: {**pair.signed(body, key_id="mk_" + "0" * 24), **JSON},
        "unsigned": lambda: dict(JSON),
        "bad key id": lambda: {**pair.signed(body, key_id="has space"), **JSON},
        "signature_invalid": lambda: {**pair.signed(body, secret="sk_guessed"), **JSON},
        "other path": lambda: {**pair.signed(body, path="/api/v1/merchant/redemptions"), **JSON},
        "empty signature": lambda: {**pair.signed(body), "X-Signature": "", **JSON},
        "short nonce": lambda: {**pair.signed(body), "X-Nonce": "short", **JSON},
        "timestamp_skew": lambda: {**pair.signed(body), "X-Timestamp": old, **JSON},
        "timestamp not a number": lambda: {**pair.signed(body), "X-Timestamp": "1.5", **JSON},
    }
    for name, make in cases.items():
        fast, slow = await pair.both(body, make)
        assert fast == slow, name
        assert fast[0] == 401 and fast[1] == "application/problem+json", name
    assert pair.hits["fast"] == len(cases)


async def test_replay_and_revocation_answer_alike(pair: Pair, world: World) -> None:
    body = body_of("x")
    for client in (pair.fast, pair.slow):
        headers = {**pair.signed(body), **JSON}
        assert (await client.post(VERIFY, content=body, headers=headers)).status_code == 200
        again = await client.post(VERIFY, content=body, headers=headers)
        assert again.status_code == 401 and again.json()["code"] == "nonce_reused"
    resp = await world.benefits.delete(f"/api/v1/benefits/merchants/{pair.merchant_id}/credentials/{pair.pos.key_id}",
                                       headers=world.staff["guangzhou"])
    assert resp.status_code == 204
    fast, slow = await pair.both(body, lambda: {**pair.signed(body), **JSON})
    assert fast == slow and fast[2]["code"] == "unknown_merchant_key"


BAD_BODIES = [
    b"", b"{", b"[]", b"null", b'"x"', b'{"qr_token": 5}', b'{"qr_token": null}', b'{"qr_token": ""}',
    b'{"qr_token": ["x"]}', b'{"qr_token": {"a": 1}}', b'{"qr_token": true}',
    body_of("a" * 513), b'{"qr_token": "x", "offer_id": "y"}', b'{"token": "x"}', b"{}",
    b'{"qr_token": "x\x00"}', b"\x00", b"\xff\xfe\xfd", b'{"qr_token": NaN}', b'{"qr_token": "\\ud800"}',
    b"\xef\xbb\xbf" + body_of("x"), b'{"qr_token": "a", "qr_token": 1}', b'{"qr_token": 1e999}',
    b"[" * 5000 + b"]" * 5000,
]


async def test_bad_bodies_answer_alike_signed_or_not(pair: Pair) -> None:
    for body in BAD_BODIES:
        for signed in (True, False):
            fast, slow = await pair.both(body, lambda b=body, s=signed: {  # type: ignore[misc]
                **(pair.signed(b) if s else {}), **JSON})
            assert fast == slow, (body[:40], signed)
            # a UTF-8 BOM is fine for json.loads (the declared route): 200 from both, as before
            expect = 200 if body.startswith(b"\xef\xbb\xbf") and signed else None
            assert fast[0] == expect or (400 <= fast[0] < 500 and fast[1] == "application/problem+json"), fast
    assert pair.hits["fast"] == 0 and pair.hits["fallback"] == 2 * len(BAD_BODIES)


async def test_content_types_answer_alike(pair: Pair) -> None:
    body = body_of("x")
    for content_type in (None, "text/plain", "application/merchant+json", "application/json; charset=utf-8",
                         "APPLICATION/JSON", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        extra = {"content-type": content_type} if content_type else {}
        fast, slow = await pair.both(body, lambda e=extra: {**pair.signed(body), **e})  # type: ignore[misc]
        assert fast == slow, content_type
        assert fast[0] in (200, 422), (content_type, fast)


async def test_oversized_body_is_413_and_the_metrics_label_is_the_route(pair: Pair) -> None:
    body = b'{"qr_token": "' + b"a" * 2_000_000 + b'"}'
    fast, slow = await pair.both(body, lambda: {**pair.signed(b""), **JSON})
    assert fast == slow and fast[0] == 413 and fast[2]["code"] == "too_large"
    good = body_of("x")
    await pair.both(good, lambda: {**pair.signed(good), **JSON})
    for client in (pair.fast, pair.slow):
        metrics = (await client.get("/metrics")).text
        assert f'route="{VERIFY}",service="benefits",status="200"' in metrics
    # GET on the route and a trailing slash are FastAPI's business, as before
    for client in (pair.fast, pair.slow):
        assert (await client.get(VERIFY)).status_code == 405
    fast_slash = await pair.fast.post(VERIFY + "/", content=good, headers=JSON)
    slow_slash = await pair.slow.post(VERIFY + "/", content=good, headers=JSON)
    assert fast_slash.status_code == slow_slash.status_code


async def test_membership_failing_is_503_as_before(world: World, benefits_settings: BenefitsSettings,
                                                   tokens: TokenFactory) -> None:
    """Membership refusing benefits' service token (a wrong internal secret) → 503
    upstream_unavailable from both routes."""
    wrong = BenefitsSettings(**{**benefits_settings.model_dump(by_alias=False),
                                "internal_secret": "another-internal-secret-0123456789abcdef"})
    membership = transport(world.membership._transport.app)  # type: ignore[attr-defined]
    m = await world.merchant()
    pos = await world.pos(m["id"])
    fast_app = create_app(wrong, verifier=tokens.verifier(), transports={"membership": membership})
    slow_app = without_fast_routes(create_app(wrong, verifier=tokens.verifier(), transports={"membership": membership}))
    async with running(fast_app) as fast, running(slow_app) as slow:
        pair = Pair(fast, slow, Counter(), pos)
        body = body_of("x")
        a, b = await pair.both(body, lambda: {**pair.signed(body), **JSON})
    assert a == b and a[0] == 503 and a[2]["code"] == "upstream_unavailable"
