"""Replicas that behave as one (issue 8): two complete sets of processes — A and B, each its own
gateway and five services — on one PostgreSQL server and one Redis, with the same production-style
secrets (scripts/replicas.py, as `make replicas` runs them). Every guarantee that must not depend
on which replica a request reaches is exercised across A and B."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from scripts.replicas import production_secrets, replica_env, two_sets
from services.benefits.merchant_api.signing import signed_headers
from tests.backends import postgres_url, redis_url
from tests.databases import _drop_database
from tests.stack import Stack

ADMIN = ("rep-admin", "rep-admin-password-1")
PASSWORD = "rep-password-12345"
CODE = "975310"
PHONES = {"qr": "13711110001", "quota": "13711110002", "refresh": "13711110003", "closed": "13711110004"}
AUTH_LIMIT = 20  # GATEWAY_RATE_LIMIT_AUTH_IP for this module (per 60 s)
QUOTA = 4

pytestmark = pytest.mark.skipif(postgres_url() is None or redis_url() is None,
                                reason="replicas need a reachable PostgreSQL and Redis "
                                       "(TEST_DATABASE_URL / TEST_REDIS_URL); CI provides both")


@pytest.fixture(scope="module")
def sets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, Stack]]:
    server = postgres_url()
    assert server is not None and redis_url() is not None
    database_url = f"{server.rstrip('/')}/su_rep_{uuid.uuid4().hex[:10]}"
    env = replica_env(database_url, redis_url() or "", production_secrets(), {
        "SMS_TEST_CODES": ",".join(f"{p}:{CODE}" for p in PHONES.values()),
        "BOOTSTRAP_ADMIN_USERNAME": ADMIN[0], "BOOTSTRAP_ADMIN_PASSWORD": ADMIN[1],
        # Production-like limits; each test speaks from its own client address (X-Forwarded-For
        # from a trusted proxy), so one test's requests never spend another's quota.
        "RATE_LIMIT_SCALE": "1", "GATEWAY_RATE_LIMIT_AUTH_IP": str(AUTH_LIMIT),
        "GATEWAY_TRUSTED_PROXIES": '["127.0.0.1"]',
    })
    try:
        with two_sets(tmp_path_factory.mktemp("replicas"), env) as (a, b):
            yield a, b
    finally:
        from services.common.config import SERVICE_NAMES, database_url_for_service

        for service in SERVICE_NAMES:
            asyncio.run(_drop_database(database_url_for_service(database_url, service)))


def client_ip() -> dict[str, str]:
    return {"x-forwarded-for": f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"}


def ok(resp: httpx.Response, status: int = 200) -> Any:
    assert resp.status_code == status, resp.text
    return resp.json() if resp.content else None


def bearer(resp: httpx.Response) -> dict[str, str]:
    return {"authorization": f"Bearer {ok(resp)['access_token']}"}


@pytest.fixture(scope="module")
def world(sets: tuple[Stack, Stack]) -> dict[str, Any]:
    """Built half through A, half through B: an org tree, a staff account, members, a merchant
    with a key, an offer without a quota and one with a quota of QUOTA."""
    a, b = sets
    ip = client_ip()
    with httpx.Client(base_url=a.gateway, timeout=20, headers=ip) as ga, \
            httpx.Client(base_url=b.gateway, timeout=20, headers=ip) as gb:
        admin = bearer(ga.post("/api/v1/auth/password/login", json={"username": ADMIN[0], "password": ADMIN[1]}))
        root = ok(gb.post("/api/v1/orgs", json={"name": "全国总工会(rep)", "parent_id": None}, headers=admin), 201)
        city = ok(ga.post("/api/v1/orgs", json={"name": "杭州市总工会(rep)", "parent_id": root["id"]},
                          headers=admin), 201)
        ok(gb.post("/api/v1/admin/accounts", headers=admin, json={
            "username": "rep-staff", "password": PASSWORD, "display_name": "rep-staff", "roles": ["staff"],
            "org_id": city["id"]}), 201)
        staff = bearer(ga.post("/api/v1/auth/password/login", json={"username": "rep-staff", "password": PASSWORD}))
        members = {}
        for n, key in enumerate(("qr", "quota")):
            g = (ga, gb)[n % 2]
            member = bearer(g.post("/api/v1/auth/sms/login", json={"phone": PHONES[key], "code": CODE}))
            application = ok(g.post("/api/v1/membership/applications", headers=member, json={
                "real_name": "王小明", "id_number": _id_number(n), "org_id": city["id"],
                "employer_name": "杭州某公司"}), 201)
            ok((gb, ga)[n % 2].post(f"/api/v1/membership/applications/{application['id']}/approve", headers=staff))
            members[key] = member
        merchant = ok(gb.post("/api/v1/benefits/merchants", headers=staff, json={
            "name": "西湖职工书店", "category": "shopping", "address": "杭州市西湖区", "lat": 30.25, "lng": 120.15,
            "phone": "057188888888"}), 201)
        key = ok(ga.post(f"/api/v1/benefits/merchants/{merchant['id']}/credentials", headers=staff), 201)
        now = datetime.now(UTC)
        offer = {"merchant_id": merchant["id"], "title": "会员八折", "description": "全场八折",
                 "discount_type": "percent_off", "value": 20, "min_spend_fen": 0, "max_discount_fen": None,
                 "per_member_limit": 1000, "limit_period": "total", "total_quota": None, "eligible_org_id": None,
                 "starts_at": (now - timedelta(minutes=1)).isoformat(),
                 "ends_at": (now + timedelta(days=1)).isoformat()}
        open_offer = ok(gb.post("/api/v1/benefits/offers", headers=staff, json=offer), 201)
        quota_offer = ok(ga.post("/api/v1/benefits/offers", headers=staff, json={**offer, "title": "限量立减",
                                                                                 "total_quota": QUOTA}), 201)
    return {"members": members, "key": key, "open_offer": open_offer["id"], "quota_offer": quota_offer["id"]}


def _id_number(n: int) -> str:
    from services.membership.applications.idcard import check_character

    first17 = f"33010619880512{n:03d}"
    return first17 + check_character(first17)


class Merchant:
    """A merchant's till: signs every request (CONTRACT §5)."""

    def __init__(self, key: dict[str, str]) -> None:
        self.key_id, self.secret = key["key_id"], key["secret"]

    def headers(self, method: str, path: str, body: bytes = b"", *, nonce: str | None = None,
                idem: str | None = None) -> dict[str, str]:
        headers = signed_headers(self.key_id, self.secret, method, path, body, nonce=nonce)
        if body:
            headers["content-type"] = "application/json"
        if idem:
            headers["idempotency-key"] = idem
        return headers

    def redeem_args(self, token: str, offer_id: str, amount: int = 10000,
                    idem: str | None = None) -> dict[str, Any]:
        body = json.dumps({"qr_token": token, "offer_id": offer_id, "order_amount_fen": amount}).encode()
        return {"content": body, "headers": self.headers("POST", "/api/v1/merchant/redemptions", body,
                                                         idem=idem or uuid.uuid4().hex)}


def qr(gateway: httpx.Client, member: dict[str, str]) -> str:
    return str(ok(gateway.post("/api/v1/membership/me/qr", headers=member), 201)["token"])


def test_qr_consumed_via_a_is_used_via_b(sets: tuple[Stack, Stack], world: dict[str, Any]) -> None:
    a, b = sets
    till = Merchant(world["key"])
    with httpx.Client(base_url=a.gateway, timeout=20) as ga, httpx.Client(base_url=b.gateway, timeout=20) as gb:
        token = qr(gb, world["members"]["qr"])
        ok(ga.post("/api/v1/merchant/redemptions", **till.redeem_args(token, world["open_offer"])), 201)
        again = gb.post("/api/v1/merchant/redemptions", **till.redeem_args(token, world["open_offer"]))
        assert again.status_code == 409 and again.json()["code"] == "qr_token_used"
        body = json.dumps({"qr_token": token}).encode()
        check = ok(gb.post("/api/v1/merchant/verify", content=body,
                           headers=till.headers("POST", "/api/v1/merchant/verify", body)))
        assert check["valid"] is False and check["reason"] == "used"


async def test_concurrent_consumes_via_a_and_b_one_wins(sets: tuple[Stack, Stack], world: dict[str, Any]) -> None:
    a, b = sets
    till = Merchant(world["key"])
    async with httpx.AsyncClient(base_url=a.gateway, timeout=20) as ga, \
            httpx.AsyncClient(base_url=b.gateway, timeout=20) as gb:
        for _ in range(4):
            resp = await ga.post("/api/v1/membership/me/qr", headers=world["members"]["qr"])
            token = ok(resp, 201)["token"]
            answers = await asyncio.gather(
                ga.post("/api/v1/merchant/redemptions", **till.redeem_args(token, world["open_offer"])),
                gb.post("/api/v1/merchant/redemptions", **till.redeem_args(token, world["open_offer"])))
            codes = sorted(r.status_code for r in answers)
            assert codes == [201, 409], [r.text for r in answers]
            assert next(r for r in answers if r.status_code == 409).json()["code"] == "qr_token_used"


def test_merchant_nonce_used_via_a_is_refused_via_b(sets: tuple[Stack, Stack], world: dict[str, Any]) -> None:
    a, b = sets
    till = Merchant(world["key"])
    path = "/api/v1/merchant/redemptions?limit=5"
    headers = till.headers("GET", path, nonce=secrets.token_hex(16))
    assert httpx.get(a.gateway + path, headers=headers, timeout=20).status_code == 200
    replay = httpx.get(b.gateway + path, headers=headers, timeout=20)
    assert replay.status_code == 401 and replay.json()["code"] == "nonce_reused"
    # And the other way round.
    headers = till.headers("GET", path, nonce=secrets.token_hex(16))
    assert httpx.get(b.gateway + path, headers=headers, timeout=20).status_code == 200
    assert httpx.get(a.gateway + path, headers=headers, timeout=20).json()["code"] == "nonce_reused"


def test_idempotency_key_used_via_a_replays_via_b(sets: tuple[Stack, Stack], world: dict[str, Any]) -> None:
    a, b = sets
    till = Merchant(world["key"])
    key = f"till-7-{uuid.uuid4().hex}"
    with httpx.Client(base_url=a.gateway, timeout=20) as ga, httpx.Client(base_url=b.gateway, timeout=20) as gb:
        token = qr(ga, world["members"]["qr"])
        first = ok(ga.post("/api/v1/merchant/redemptions", **till.redeem_args(token, world["open_offer"], 8800,
                                                                                idem=key)), 201)
        # The same key and body through B, freshly signed (new nonce): the same answer, nothing new.
        replay = gb.post("/api/v1/merchant/redemptions", **till.redeem_args(token, world["open_offer"], 8800,
                                                                             idem=key))
        assert replay.status_code == 201 and replay.json() == first
        assert first["discount_fen"] == 1760 and first["payable_fen"] == 7040
        other = gb.post("/api/v1/merchant/redemptions", **till.redeem_args(token, world["open_offer"], 9900,
                                                                            idem=key))
        assert other.status_code == 422 and other.json()["code"] == "idempotency_key_mismatch"
        path = "/api/v1/merchant/redemptions?limit=100"
        listed = ok(gb.get(path, headers=till.headers("GET", path)))["items"]
        assert [r["id"] for r in listed].count(first["id"]) == 1


def test_rate_limits_are_shared(sets: tuple[Stack, Stack]) -> None:
    a, b = sets
    ip = client_ip()
    allowed = 0
    started = time.monotonic()
    with httpx.Client(timeout=20, headers=ip) as client:
        # Alternate A and B: with per-process limits each would allow AUTH_LIMIT (2× in all).
        for i in range(2 * AUTH_LIMIT):
            gateway = (a, b)[i % 2].gateway
            resp = client.post(f"{gateway}/api/v1/auth/refresh", json={"refresh_token": "not-a-token"})
            if resp.status_code == 429:
                break
            assert resp.status_code == 401, resp.text
            allowed += 1
        # GCRA: a burst of AUTH_LIMIT, plus one per emission interval (60 s / AUTH_LIMIT) that
        # passed meanwhile. Per-gateway limits would have allowed 2 × AUTH_LIMIT.
        refills = int((time.monotonic() - started) / (60 / AUTH_LIMIT)) + 1
        assert AUTH_LIMIT <= allowed <= AUTH_LIMIT + refills < 2 * AUTH_LIMIT, (allowed, refills)
        assert resp.json()["code"] == "rate_limited" and int(resp.headers["retry-after"]) >= 1
        for gateway in (a.gateway, b.gateway):
            assert client.post(f"{gateway}/api/v1/auth/refresh", json={"refresh_token": "x"}).status_code == 429
    # Another client address is not affected.
    with httpx.Client(timeout=20, headers=client_ip()) as other:
        assert other.post(f"{b.gateway}/api/v1/auth/refresh", json={"refresh_token": "x"}).status_code == 401


def test_refresh_rotated_via_a_reused_via_b(sets: tuple[Stack, Stack]) -> None:
    a, b = sets
    ip = client_ip()
    with httpx.Client(base_url=a.gateway, timeout=20, headers=ip) as ga, \
            httpx.Client(base_url=b.gateway, timeout=20, headers=ip) as gb:
        pair = ok(ga.post("/api/v1/auth/sms/login", json={"phone": PHONES["refresh"], "code": CODE}))
        rotated = ok(ga.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}))
        # The rotated access token works on B (same signing key everywhere).
        assert gb.get("/api/v1/me", headers={"authorization": f"Bearer {rotated['access_token']}"}).status_code == 200
        reused = gb.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
        assert reused.status_code == 401 and reused.json()["code"] == "refresh_token_reused"
        # Reuse kills the whole login, whichever replica is asked next.
        assert ga.post("/api/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]}).status_code == 401


async def test_quota_race_split_over_a_and_b(sets: tuple[Stack, Stack], world: dict[str, Any]) -> None:
    a, b = sets
    till = Merchant(world["key"])
    member = world["members"]["quota"]
    async with httpx.AsyncClient(base_url=a.gateway, timeout=30) as ga, \
            httpx.AsyncClient(base_url=b.gateway, timeout=30) as gb:
        tokens = [ok(await (ga, gb)[i % 2].post("/api/v1/membership/me/qr", headers=member), 201)["token"]
                  for i in range(3 * QUOTA)]
        answers = await asyncio.gather(*(
            (ga, gb)[i % 2].post("/api/v1/merchant/redemptions", **till.redeem_args(t, world["quota_offer"], 5000))
            for i, t in enumerate(tokens)))
        codes = [r.status_code for r in answers]
        assert codes.count(201) == QUOTA, [r.text for r in answers]
        refused = [r.json()["code"] for r in answers if r.status_code != 201]
        assert refused == ["quota_exhausted"] * (2 * QUOTA), refused
        path = "/api/v1/merchant/redemptions?limit=100"
        listed = ok(await gb.get(path, headers=till.headers("GET", path)))["items"]
        assert sum(1 for r in listed if r["offer_id"] == world["quota_offer"]) == QUOTA
        # The refused redemptions released their QR codes: each is still good for the open offer.
        loser = next(t for t, r in zip(tokens, answers, strict=True) if r.status_code != 201)
        ok(await ga.post("/api/v1/merchant/redemptions", **till.redeem_args(loser, world["open_offer"])), 201)


def _stream_state(stack: Stack, producer: str) -> dict[str, dict[str, int]]:
    """Per consumer group on `producer`'s event stream: entries not yet read, and read but not
    acknowledged (acknowledged = the receiving service answered 200)."""
    import redis

    client = redis.Redis.from_url(stack.env["REDIS_URL"])
    try:
        key = f"{stack.env['SMARTUNION_REDIS_NAMESPACE']}:events:{producer}"
        return {g["name"].decode(): {"lag": int(g["lag"] or 0), "pending": int(g["pending"])}
                for g in client.xinfo_groups(key)}
    finally:
        client.close()


def _closed_accounts(stack: Stack) -> list[str]:
    import redis

    client = redis.Redis.from_url(stack.env["REDIS_URL"])
    try:
        entries = client.xrange(f"{stack.env['SMARTUNION_REDIS_NAMESPACE']}:events:identity")
        return [json.loads(f[b"payload"])["account_id"] for _, f in entries if f[b"topic"] == b"account.closed"]
    finally:
        client.close()


def _wait(check: Any, what: str, timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)
    return value


def test_events_travel_between_replicas_through_redis_streams(sets: tuple[Stack, Stack],
                                                              world: dict[str, Any]) -> None:
    """Production's transport: the outbox of whichever replica handled a fact appends to the
    producer's stream; one replica of each receiving service handles it, once."""
    a, b = sets
    ip = client_ip()
    with httpx.Client(base_url=a.gateway, timeout=20, headers=ip) as ga, \
            httpx.Client(base_url=b.gateway, timeout=20, headers=ip) as gb:
        # Approved via B in the world fixture: the notification reaches the inbox exactly once.
        def approved() -> list[Any]:
            items = ok(ga.get("/api/v1/notifications", headers=world["members"]["qr"]))["items"]
            return [n for n in items if n["kind"] == "application_approved"]

        assert len(_wait(approved, "the approval notification")) == 1
        assert _stream_state(a, "membership")["identity"] == {"lag": 0, "pending": 0}

        # Closing an account via B: every service's group takes account.closed and acknowledges it.
        person = bearer(ga.post("/api/v1/auth/sms/login", json={"phone": PHONES["closed"], "code": CODE}))
        account_id = ok(ga.get("/api/v1/me", headers=person))["id"]
        assert gb.delete("/api/v1/me", headers=person).status_code == 202
        _wait(lambda: account_id in _closed_accounts(b), "account.closed in identity's stream")
        groups = ("membership", "benefits", "legal_aid", "jobs")
        _wait(lambda: all(_stream_state(b, "identity").get(g) == {"lag": 0, "pending": 0} for g in groups),
              "every service to take account.closed")
        time.sleep(1.5)  # a second delivery, if any replica were to send one, would show up as lag again
        assert all(_stream_state(b, "identity")[g] == {"lag": 0, "pending": 0} for g in groups)
        assert len(approved()) == 1
