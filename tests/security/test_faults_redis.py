"""Redis unavailable under load, on a PostgreSQL + Redis stack of its own whose REDIS_URL points at
a TCP proxy the test cuts (every process: the gateway's rate limiter, the services' key-value
store, benefits' nonce store, the outbox relays and the stream consumers).

While Redis is cut, under light load through the gateway: no answer is a 500 or carries a trace;
routes that need no Redis (`/me`, the job list, creating an org, SMS login) keep answering 2xx and the gateway
keeps serving (its limiter falls back to in-process limits); those that need it answer 503
`redis_unavailable` (the merchant API's nonce claim, QR issue and job post limits); a staff
approval — a fact whose event (a notification) travels over Redis Streams — is acknowledged, and
its outbox row stays pending. Once Redis is back everything answers normally within a few seconds,
the notification reaches the new member's inbox exactly once (the relay and the stream consumer
recovered by themselves), and every write acknowledged before or during the cut is there."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.backends import postgres_url, redis_url
from tests.security.test_faults import proxy_in_front_of
from tests.security.world import ADMIN, CODE, World, backend_for, bearer, security_stack

# Outside CI only: tests/conftest.py refuses to start a CI run without PostgreSQL and Redis.
pytestmark = pytest.mark.skipif(postgres_url() is None or redis_url() is None,
                                reason="Redis unavailable under load needs a reachable PostgreSQL and Redis "
                                       "(TEST_DATABASE_URL / TEST_REDIS_URL)")

# After a ~3 s cut the stream consumers back off at most 2 s between attempts (0.5 s more per
# failure, streams.py), the relay retries every second, the gateway's limiter after 5 s.
RECOVERY_SECONDS = 5.0
GATEWAY_FALLBACK_SECONDS = 5.0  # gateway/ratelimit.py: RedisLimiter(fallback_seconds=…)


@dataclass
class Log:
    entries: list[tuple[float, str, int, str]] = field(default_factory=list)  # (started, what, status, body)
    acked: dict[str, list[str]] = field(default_factory=dict)  # what → tags acknowledged with a 2xx

    def record(self, started: float, what: str, resp: httpx.Response) -> httpx.Response:
        self.entries.append((started, what, resp.status_code, resp.text))
        return resp


def _org_names(w: World, parent: str) -> set[str]:
    names: set[str] = set()
    cursor = None
    while True:
        page = w.ok(w.call("GET", f"/api/v1/orgs?parent_id={parent}&limit=100"
                           + (f"&cursor={cursor}" if cursor else ""), role="admin"))
        names |= {o["name"] for o in page["items"]}
        cursor = page.get("next_cursor")
        if not cursor:
            return names


def _my_job_titles(w: World) -> set[str]:
    titles: set[str] = set()
    cursor = None
    while True:
        page = w.ok(w.call("GET", "/api/v1/jobs/mine?limit=100" + (f"&cursor={cursor}" if cursor else ""),
                           role="employer"))
        titles |= {j["title"] for j in page["items"]}
        cursor = page.get("next_cursor")
        if not cursor:
            return titles


@contextlib.contextmanager
def load(w: World, log: Log) -> Iterator[None]:
    """Light load through the gateway: two readers that need no Redis, a write that needs none
    (an org) and one that does (a job post: its per-account limit lives in the key-value store)."""
    stop = threading.Event()
    log.acked.update(org=[], job=[])
    calls: dict[str, Callable[[httpx.Client], tuple[str | None, httpx.Response]]] = {
        "me": lambda c: (None, c.get("/api/v1/me", headers=w.headers["member"])),
        "jobs": lambda c: (None, c.get("/api/v1/jobs?limit=5", headers=w.headers["member"])),
        "org": lambda c: (tag := f"redis-cut-org-{secrets.token_hex(4)}", c.post(
            "/api/v1/orgs", headers=w.headers["admin"], json={"name": tag, "parent_id": w.ids["parent"]})),
        "job": lambda c: (tag := f"redis-cut-job-{secrets.token_hex(4)}", c.post(
            "/api/v1/jobs", headers=w.headers["employer"], json=w.job_body(title=tag))),
    }

    def run(what: str) -> None:
        with httpx.Client(base_url=w.stack.gateway, timeout=20) as client:
            while not stop.is_set():
                started = time.monotonic()
                tag, resp = calls[what](client)
                log.record(started, what, resp)
                if tag and resp.status_code == 201:
                    log.acked[what].append(tag)
                time.sleep(0.05)

    threads = [threading.Thread(target=run, args=(what,), daemon=True) for what in calls]
    for t in threads:
        t.start()
    try:
        yield
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)


def _outbox_pending(url: str, account_id: str) -> list[bool]:
    """For each of membership's outbox rows addressed to the account: is it still undelivered?"""
    import asyncpg

    async def query() -> list[bool]:
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            rows = await conn.fetch("SELECT delivered_at FROM outbox_events WHERE payload LIKE $1",
                                    f'%"account_id": "{account_id}"%')
        finally:
            await conn.close()
        return [row["delivered_at"] is None for row in rows]

    return asyncio.run(query())


def _gateway_limits_in_redis(w: World) -> bool:
    """Whether a request through the gateway runs its limiter's script in Redis again (and not only
    in-process): MONITOR shows the script's keys. (Its keys themselves expire within milliseconds
    under the tests' RATE_LIMIT_SCALE, too soon to be looked up.)"""
    from redis import Redis
    from redis.exceptions import TimeoutError as RedisTimeout

    assert w.backend.redis_url
    prefix = f"{w.backend.redis_namespace}:gateway:rl:"
    with Redis.from_url(w.backend.redis_url, socket_timeout=0.5) as r, r.monitor() as monitor:
        w.ok(w.gw.get("/api/v1/me", headers=w.headers["member"]))
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:  # other stacks share this Redis: skip their commands
            try:
                if prefix in str(monitor.next_command()["command"]):
                    return True
            except RedisTimeout:
                return False
    return False


def _wait_for(check: Callable[[], bool], since: float, seconds: float) -> float | None:
    """Seconds from `since` until `check()` held, None if it did not by `since + seconds`."""
    while time.monotonic() - since < seconds:
        if check():
            return time.monotonic() - since
        time.sleep(0.1)
    return None


# The parameter only names the backend in the test id, as the `world` tests do (security report).
@pytest.mark.parametrize("backend_name", ["postgres"])
def test_redis_unavailable_under_load(tmp_path: Path, backend_name: str) -> None:
    real_redis = redis_url()
    assert real_redis is not None
    with backend_for(backend_name) as backend, proxy_in_front_of(real_redis) as (proxied, proxy, run), \
            security_stack(tmp_path, backend, REDIS_URL=proxied) as (stack, wechat), \
            httpx.Client(base_url=stack.gateway, timeout=20) as gw:
        w = World(stack=stack, wechat=wechat, gw=gw, backend=backend)
        log = Log()
        _scenario(w, log, proxy, run)


def _scenario(w: World, log: Log, proxy: Any, run: Callable[[Any], Any]) -> None:
    # -- a small world: orgs, staff, an employer, a member with a QR code, a merchant's POS -------------
    w.headers["admin"] = bearer(w.password_login(*ADMIN)["access_token"])
    ids = w.ids
    ids["root"] = w.org("全国总工会", None)
    ids["city_a"] = w.org("南京市总工会", ids["root"])
    ids["ws_a"] = w.org("南京地铁集团工会", ids["city_a"])
    ids["parent"] = w.org("Redis 故障测试上级工会", ids["root"])
    w.headers["staff_in"] = w.account("sec-staff-a", ["staff"], ids["city_a"])
    w.headers["employer"] = w.account("sec-employer-a", ["employer"], ids["ws_a"])
    w.headers["member"], ids["member"], w.accounts["member"] = w.new_member()
    ids["merchant"] = w.ok(w.call("POST", "/api/v1/benefits/merchants", role="staff_in", json={
        "name": "金陵饭店", "category": "food", "address": "南京市鼓楼区汉中路2号", "lat": 32.0443, "lng": 118.7781,
        "phone": "025-84711888"}), 201)["id"]
    w.pos = w.new_key()
    qr = w.qr("member")
    # The applicant whose approval, made while Redis is cut, announces itself in their inbox.
    applicant, pair = w.phone_login()
    application = w.apply(applicant, ids["ws_a"])["id"]

    def verify() -> httpx.Response:
        return log.record(time.monotonic(), "verify", w.merchant_call("POST", "/api/v1/merchant/verify",
                                                                      {"qr_token": qr}))

    assert verify().status_code == 200
    acked_before = {"org": [f"redis-before-org-{i}" for i in range(2)],
                    "job": [f"redis-before-job-{i}" for i in range(2)]}
    for tag in acked_before["org"]:
        w.ok(w.call("POST", "/api/v1/orgs", role="admin", json={"name": tag, "parent_id": ids["parent"]}), 201)
    for tag in acked_before["job"]:
        w.ok(w.call("POST", "/api/v1/jobs", role="employer", json=w.job_body(title=tag)), 201)

    with load(w, log):
        time.sleep(0.8)
        # -- 1. Redis goes away -------------------------------------------------------------------------
        run(proxy.cut())
        cut_at = time.monotonic()
        time.sleep(0.5)
        resp = verify()
        assert resp.status_code == 503 and resp.json()["code"] == "redis_unavailable", resp.text
        assert resp.headers["content-type"].startswith("application/problem+json")
        assert resp.headers.get("retry-after")
        # Issuing a QR code is limited per member in the key-value store: refused the same way.
        issue = log.record(time.monotonic(), "qr", w.call("POST", "/api/v1/membership/me/qr", role="member"))
        assert issue.status_code == 503 and issue.json()["code"] == "redis_unavailable", issue.text
        # An SMS login (codes and attempts live in the database) needs no Redis.
        sms = log.record(time.monotonic(), "sms", w.call("POST", "/api/v1/auth/sms/login",
                                                         json={"phone": w.next_phone(), "code": CODE}))
        assert sms.status_code == 200, sms.text
        # -- 2. a fact whose event travels over Redis is acknowledged; its event waits in the outbox --------
        approved = log.record(time.monotonic(), "approve", w.call(
            "POST", f"/api/v1/membership/applications/{application}/approve", role="staff_in"))
        assert approved.status_code == 200, approved.text
        time.sleep(2.0)  # a few relay passes (1 s apart) fail meanwhile
        pending = _outbox_pending(w.backend.service_database_url("membership"), pair["account_id"])
        assert pending == [True], pending
        assert w.ok(w.gw.get("/api/v1/notifications", headers=applicant))["items"] == []
        restored_at = time.monotonic()
        # -- 3. Redis comes back ----------------------------------------------------------------------------
        run(proxy.start())
        recovered = {
            "verify": _wait_for(lambda: verify().status_code == 200, restored_at, RECOVERY_SECONDS),
            "qr": _wait_for(lambda: log.record(time.monotonic(), "qr", w.call(
                "POST", "/api/v1/membership/me/qr", role="member")).status_code == 201,
                restored_at, RECOVERY_SECONDS),
            "job": _wait_for(lambda: any(e[1] == "job" and e[0] > restored_at and e[2] == 201
                                         for e in list(log.entries)), restored_at, RECOVERY_SECONDS),
        }
        time.sleep(0.5)

    recovered["inbox"] = _wait_for(lambda: bool(w.ok(w.gw.get("/api/v1/notifications", headers=applicant))["items"]),
                                   restored_at, RECOVERY_SECONDS)
    # The gateway limits through Redis again once its in-process spell is over.
    recovered["gateway_limiter"] = _wait_for(lambda: _gateway_limits_in_redis(w), restored_at,
                                             GATEWAY_FALLBACK_SECONDS + RECOVERY_SECONDS)
    assert all(v is not None for v in recovered.values()), recovered

    # No 500 and no trace, ever; only 2xx, 4xx and 503.
    statuses = sorted({e[2] for e in log.entries})
    assert all(s < 500 or s == 503 for s in statuses), statuses
    assert not [e for e in log.entries if "Traceback" in e[3] or "internal_error" in e[3]]
    during = [e for e in log.entries if cut_at + 0.05 <= e[0] < restored_at]
    # Routes that need no Redis never noticed; the gateway (limiter falling back) kept serving.
    for what, ok in (("me", 200), ("jobs", 200), ("org", 201)):
        seen = [e[2] for e in during if e[1] == what]
        assert seen and set(seen) == {ok}, (what, sorted(set(seen)))
    # A job post needs the key-value store: 503 redis_unavailable while it is away (or 201 if the
    # pooled connection had not noticed yet), nothing else.
    job_during = [e for e in during if e[1] == "job"]
    assert job_during and all(e[2] == 201 or (e[2] == 503 and '"redis_unavailable"' in e[3]) for e in job_during)
    assert any(e[2] == 503 for e in job_during), "a job post went through with Redis away: what counted it?"

    # The notification arrived, exactly once, and stays so (receivers dedupe on the event id).
    time.sleep(1.0)
    inbox = w.ok(w.gw.get("/api/v1/notifications", headers=applicant))["items"]
    assert [n["kind"] for n in inbox] == ["application_approved"], inbox
    assert _outbox_pending(w.backend.service_database_url("membership"), pair["account_id"]) == [False]

    # 4. Every write acknowledged with a 2xx, before or during the cut, is there.
    acked_orgs = [*acked_before["org"], *log.acked["org"]]
    acked_jobs = [*acked_before["job"], *log.acked["job"]]
    assert len(log.acked["org"]) >= 5, log.acked
    assert _org_names(w, ids["parent"]) >= set(acked_orgs)
    assert _my_job_titles(w) >= set(acked_jobs)
    counts = {"orgs": len(acked_orgs), "jobs": len(acked_jobs), "answers": len(log.entries),
              "during_cut": len(during), **{f"recovered_{k}_s": round(v or 0, 2) for k, v in recovered.items()}}
    print(f"redis cut: {counts}")
