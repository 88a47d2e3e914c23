"""Faults on real processes, for every service: one killed with SIGKILL under load costs only its
own routes (503 within 1 s) and comes back within 5 s of its restart; a hung one gives 504 within
its route's budget while the others keep answering; on PostgreSQL, a database that goes away
gives 503 `database_unavailable`, never 500, and nothing half-written. Every write acknowledged
with a 2xx before a fault is still there after it (each one is counted and looked up)."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from services.common.config import SERVICE_NAMES
from tests.security.conftest import on_backends
from tests.security.world import World

# -- what each service is asked to do ----------------------------------------------------------------


def _items(world: World, path: str, role: str) -> list[dict[str, Any]]:
    """Every item of a list route, page after page."""
    items: list[dict[str, Any]] = []
    cursor = None
    sep = "&" if "?" in path else "?"
    while True:
        page = world.ok(world.call("GET", f"{path}{sep}limit=100" + (f"&cursor={cursor}" if cursor else ""),
                                   role=role))
        items += page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            return items


@dataclass(frozen=True)
class Ops:
    """A write of one service whose effect can be looked up by a unique tag afterwards, and a read.
    `write` and `read` get a client of their own (the load runs in threads); `stored` answers which
    of the given tags the service holds. `bystander` is the service whose write runs beside it in
    the kill test: one with no synchronous call to this service on that route."""

    write: Callable[[World, httpx.Client, str], httpx.Response]
    read: Callable[[World, httpx.Client], httpx.Response]
    stored: Callable[[World, list[str]], set[str]]
    bystander: str = "legal_aid"
    setup: Callable[[World], None] = field(default=lambda w: None)


def _identity_write(w: World, c: httpx.Client, tag: str) -> httpx.Response:
    return c.post("/api/v1/admin/accounts", headers=w.headers["admin"], json={
        "username": tag, "password": f"{tag}-password", "display_name": "故障测试", "roles": ["staff"],
        "org_id": w.ids["city_a"]})


def _identity_stored(w: World, tags: list[str]) -> set[str]:
    # A password login is the public way to ask whether an account exists (argon2: ~50 ms each).
    found = set()
    for tag in tags:
        resp = w.call("POST", "/api/v1/auth/password/login", json={"username": tag, "password": f"{tag}-password"})
        assert resp.status_code in (200, 401), resp.text
        if resp.status_code == 200:
            found.add(tag)
    return found


def _membership_setup(w: World) -> None:
    if "faults_parent" not in w.ids:
        w.ids["faults_parent"] = w.org("故障测试上级工会", w.ids["root"])


def _membership_write(w: World, c: httpx.Client, tag: str) -> httpx.Response:
    return c.post("/api/v1/orgs", headers=w.headers["admin"], json={"name": tag, "parent_id": w.ids["faults_parent"]})


def _benefits_write(w: World, c: httpx.Client, tag: str) -> httpx.Response:
    return c.post("/api/v1/benefits/merchants", headers=w.headers["staff_in"], json={
        "name": tag, "category": "food", "address": "南京市玄武区", "lat": 32.05, "lng": 118.79,
        "phone": "025-12345678"})


def _legal_write(w: World, c: httpx.Client, tag: str) -> httpx.Response:
    return c.post(f"/api/v1/legal/tickets/{w.ids['ticket']}/messages", headers=w.headers["member"],
                  json={"body": tag, "internal": False})


def _jobs_write(w: World, c: httpx.Client, tag: str) -> httpx.Response:
    return c.post("/api/v1/jobs", headers=w.headers["employer"], json=w.job_body(title=tag))


OPS: dict[str, Ops] = {
    "identity": Ops(
        write=_identity_write,
        read=lambda w, c: c.get("/api/v1/me", headers=w.headers["member"]),
        stored=_identity_stored),
    "membership": Ops(
        write=_membership_write,
        read=lambda w, c: c.get(f"/api/v1/orgs/{w.ids['faults_parent']}", headers=w.headers["member"]),
        stored=lambda w, tags: {o["name"] for o in _items(w, f"/api/v1/orgs?parent_id={w.ids['faults_parent']}",
                                                          "admin")} & set(tags),
        setup=_membership_setup),
    "benefits": Ops(
        write=_benefits_write,
        read=lambda w, c: c.get(f"/api/v1/benefits/merchants/{w.ids['merchant']}",
                                headers=w.headers["staff_in"]),
        stored=lambda w, tags: {m["name"] for m in _items(w, "/api/v1/benefits/merchants", "staff_in")} & set(tags)),
    "legal_aid": Ops(
        write=_legal_write,
        read=lambda w, c: c.get(f"/api/v1/legal/tickets/{w.ids['ticket']}", headers=w.headers["member"]),
        stored=lambda w, tags: {m["body"] for m in _items(w, f"/api/v1/legal/tickets/{w.ids['ticket']}/messages",
                                                          "member")} & set(tags),
        bystander="jobs"),
    "jobs": Ops(
        write=_jobs_write,
        read=lambda w, c: c.get("/api/v1/jobs?limit=5", headers=w.headers["member"]),
        stored=lambda w, tags: {j["title"] for j in _items(w, "/api/v1/jobs/mine", "employer")} & set(tags)),
}
assert set(OPS) == set(SERVICE_NAMES)


def _tag(kind: str) -> str:
    return f"fault-{kind}-{secrets.token_hex(4)}"


# -- kill -9 under load ------------------------------------------------------------------------------

@dataclass
class Load:
    log: list[tuple[float, str, int, float]] = field(default_factory=list)  # (started, what, status, seconds)
    acked: dict[str, list[str]] = field(default_factory=dict)  # what → tags acknowledged with a 2xx


@contextlib.contextmanager
def load(world: World, service: str) -> Iterator[Load]:
    """Three clients: the service's write, its read, and its bystander's write, each in a loop."""
    ops, other = OPS[service], OPS[OPS[service].bystander]
    result = Load(acked={"own": [], "other": []})
    stop = threading.Event()

    def run(what: str) -> None:
        with httpx.Client(base_url=world.stack.gateway, timeout=15) as client:
            while not stop.is_set():
                start = time.monotonic()
                if what == "read":
                    resp = ops.read(world, client)
                else:
                    tag = _tag(what)
                    resp = (ops if what == "own" else other).write(world, client, tag)
                    if resp.status_code in (200, 201):
                        result.acked[what].append(tag)
                result.log.append((start, what, resp.status_code, time.monotonic() - start))
                time.sleep(0.02)

    threads = [threading.Thread(target=run, args=(what,), daemon=True) for what in ("own", "read", "other")]
    for t in threads:
        t.start()
    try:
        yield result
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=20)


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_a_killed_service_costs_only_its_own_routes(world: World, service: str) -> None:
    ops = OPS[service]
    ops.setup(world)
    with httpx.Client(base_url=world.stack.gateway, timeout=15) as client:
        before = [_tag("before") for _ in range(3)]
        for tag in before:
            assert ops.write(world, client, tag).status_code in (200, 201)
    with load(world, service) as result:
        time.sleep(0.6)
        killed_at = time.monotonic()
        world.stack.kill(service, signal.SIGKILL)
        time.sleep(1.5)
        # Restart: once the process is ready the gateway sends traffic again within 5 s.
        restarted_at = time.monotonic()
        world.stack.start(service)
        world.stack.wait_ready(service)
        ready_at = time.monotonic()
        recovered = None
        with httpx.Client(base_url=world.stack.gateway, timeout=15) as client:
            while time.monotonic() - ready_at < 10:
                if ops.read(world, client).status_code == 200:
                    recovered = time.monotonic() - ready_at
                    break
                time.sleep(0.1)
        time.sleep(0.3)
    assert recovered is not None and recovered <= 5.0, recovered
    during = [e for e in result.log if killed_at + 0.05 <= e[0] and e[0] + e[3] <= restarted_at]
    own = [e for e in during if e[1] in ("own", "read")]
    other = [e for e in during if e[1] == "other"]
    assert own and other, result.log
    # The dead service's routes fail fast with 503 upstream_unavailable ...
    assert {e[2] for e in own} == {503}, sorted({e[2] for e in own})
    assert max(e[3] for e in own) < 1.0, max(e[3] for e in own)
    # ... and the other service never notices.
    assert {e[2] for e in other} == {201}, sorted({e[2] for e in other})
    assert all(e[2] in (200, 201, 503) for e in result.log), sorted({e[2] for e in result.log})
    # Nothing acknowledged is lost: every write answered 2xx, before the kill or during the load.
    acked_own = [*before, *result.acked["own"]]
    assert len(acked_own) >= 4 and len(result.acked["other"]) >= 3
    assert ops.stored(world, acked_own) == set(acked_own)
    other_ops = OPS[ops.bystander]
    assert other_ops.stored(world, result.acked["other"]) == set(result.acked["other"])


# -- a hung service ----------------------------------------------------------------------------------

def _hung_call(world: World, service: str) -> httpx.Response:
    """A route of the service; identity's and the merchant API's budget is 5 s, the others' 10 s."""
    if service == "benefits":
        return world.merchant_call("GET", "/api/v1/merchant/redemptions?limit=1")
    path = {"identity": "/api/v1/me", "membership": f"/api/v1/orgs/{world.ids['root']}",
            "legal_aid": f"/api/v1/legal/tickets/{world.ids['ticket']}", "jobs": "/api/v1/jobs?limit=1"}[service]
    return world.call("GET", path, role="member")


BUDGET = {"identity": 5.0, "benefits": 5.0, "membership": 10.0, "legal_aid": 10.0, "jobs": 10.0}


# Stopped together: each group's routes depend on no service outside it, so every stopped
# service is checked on its own route while the other group answers (15 s instead of 40 s).
HANG_GROUPS = {"membership+legal_aid+jobs": ("membership", "legal_aid", "jobs"),
               "identity+benefits": ("identity", "benefits")}


# The 504 is the gateway's timeout, the same whatever the services store their data in.
@on_backends("sqlite")
@pytest.mark.parametrize("group", HANG_GROUPS)
def test_a_hung_service_gives_504_within_the_route_budget(world: World, group: str) -> None:
    hung = HANG_GROUPS[group]
    others = [s for s in SERVICE_NAMES if s not in hung]
    for service in hung:
        world.stack.procs[service].send_signal(signal.SIGSTOP)
    try:
        with ThreadPoolExecutor(len(hung)) as pool:
            timed = list(pool.map(lambda s: (time.monotonic(), _hung_call(world, s), time.monotonic()), hung))
        for service, (start, resp, end) in zip(hung, timed, strict=True):
            assert resp.status_code == 504 and resp.json()["code"] == "upstream_timeout", (service, resp.text)
            assert resp.headers["content-type"].startswith("application/problem+json")
            # Not before the budget (no early give-up), and within it (headroom for a loaded machine).
            assert BUDGET[service] - 0.5 < end - start < BUDGET[service] + 3.0, (service, end - start)
        # The other services keep answering (tokens are verified locally, keys cached).
        for service in others:
            assert _hung_call(world, service).status_code == 200, service
    finally:
        for service in hung:
            world.stack.procs[service].send_signal(signal.SIGCONT)
    for service in hung:
        deadline = time.monotonic() + 15
        while _hung_call(world, service).status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.3)
        assert _hung_call(world, service).status_code == 200, service


# -- the database goes away --------------------------------------------------------------------------

class TcpProxy:
    """A TCP proxy the test can cut: existing connections are dropped and new ones refused."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.server: asyncio.base_events.Server | None = None
        self.port = 0
        self.writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self.writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def cut(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None
        for w in self.writers:
            w.close()
        self.writers.clear()


@contextlib.contextmanager
def proxy_in_front_of(url: str) -> Iterator[tuple[str, TcpProxy, Callable[[Any], Any]]]:
    """The proxy runs on its own event loop in a thread; yields the database URL through it."""
    real = urlsplit(url)
    proxy = TcpProxy((real.hostname or "127.0.0.1", real.port or 5432))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def run(coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(10)

    try:
        run(proxy.start())
        netloc = f"{real.username}@127.0.0.1:{proxy.port}" if real.username else f"127.0.0.1:{proxy.port}"
        yield urlunsplit((real.scheme, netloc, real.path, real.query, "")), proxy, run
    finally:
        run(proxy.cut())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.close()


def _restart(world: World, service: str, env: dict[str, str]) -> None:
    world.stack.kill(service, signal.SIGTERM)
    saved = world.stack.env
    world.stack.env = env
    try:
        world.stack.start(service)
    finally:
        world.stack.env = saved
    world.stack.wait_ready(service)


def _ready(world: World, service: str) -> int:
    try:
        return httpx.get(f"{world.stack.service_url(service)}/readyz", timeout=5).status_code
    except httpx.HTTPError:
        return 0


@on_backends("postgres")
@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_database_unavailable_gives_503_and_nothing_half_written(world: World, service: str) -> None:
    """The service's own database connection runs through a proxy the test cuts: every read and
    write answers 503 `database_unavailable` (problem+json, never 500) through the gateway, its
    `/readyz` says 503, the other services go on; after the database is back, everything
    acknowledged before is there and nothing of the refused writes is."""
    ops = OPS[service]
    ops.setup(world)
    bystander = OPS["jobs" if service == "legal_aid" else "legal_aid"]
    url = world.backend.service_database_url(service)
    try:
        with proxy_in_front_of(url) as (proxied, proxy, run), \
                httpx.Client(base_url=world.stack.gateway, timeout=20) as client:
            _restart(world, service, {**world.stack.env, f"{service.upper()}_DATABASE_URL": proxied})
            acked = [_tag("acked") for _ in range(3)]
            for tag in acked:
                assert ops.write(world, client, tag).status_code in (200, 201)
            run(proxy.cut())
            refused = [_tag("cut") for _ in range(2)]
            for tag in refused:
                for resp in (ops.write(world, client, tag), ops.read(world, client)):
                    assert resp.status_code == 503, resp.text
                    assert resp.json()["code"] == "database_unavailable", resp.text
                    assert resp.headers["content-type"].startswith("application/problem+json")
                    assert resp.headers.get("retry-after")
            assert _ready(world, service) == 503
            # The other services do not depend on this database.
            assert bystander.write(world, client, _tag("bystander")).status_code == 201
            run(proxy.start())
            deadline = time.monotonic() + 10
            while _ready(world, service) != 200 and time.monotonic() < deadline:
                time.sleep(0.2)
            assert _ready(world, service) == 200
            assert ops.stored(world, acked) == set(acked)
            assert ops.stored(world, refused) == set(), "a write answered 503 was stored"
            assert ops.write(world, client, _tag("after")).status_code in (200, 201)
    finally:
        _restart(world, service, world.stack.env)
