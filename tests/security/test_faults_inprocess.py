"""Faults that need no process: a subscriber that hangs must not stall the service that feeds it;
an upstream that comes back after a crash gets traffic as soon as it answers."""

from __future__ import annotations

import asyncio
import time

import httpx
from fastapi import FastAPI

from services.identity.config import IdentitySettings
from services.identity.main import EVENT_SUBSCRIBERS, create_app
from tests.apps import running
from tests.gateway.conftest import running_gateway
from tests.gateway.upstream import FakeUpstream
from tests.identity.conftest import OTHER_PHONE, bearer, identity_settings, sms_login  # noqa: F401
from tests.stack import free_port
from tests.tokens import TokenFactory


def _hanging_subscriber(entered: asyncio.Event, release: asyncio.Event) -> FastAPI:
    app = FastAPI()

    @app.post("/internal/events")
    async def events() -> dict[str, str]:
        entered.set()
        await release.wait()
        return {"status": "ok"}

    return app


class TestOutboxRelayWithAHangingSubscriber:
    async def test_writes_go_on_while_an_event_is_being_delivered(self, identity_settings: IdentitySettings) -> None:  # noqa: F811
        """The relay used to hold the database's write lock (SQLite BEGIN IMMEDIATE) across its HTTP
        calls to subscribers: one slow subscriber stalled every login and account change (504s)."""
        entered, release = asyncio.Event(), asyncio.Event()
        transports = {name: httpx.ASGITransport(app=_hanging_subscriber(entered, release))
                      for name in EVENT_SUBSCRIBERS}
        app = create_app(identity_settings, transports=transports)
        async with running(app) as client:
            pair = await sms_login(client)
            assert (await client.delete("/api/v1/me", headers=bearer(pair))).status_code == 202
            relay = asyncio.create_task(app.state.outbox.deliver_pending())
            await asyncio.wait_for(entered.wait(), 10)
            try:
                # A write (a new account and its refresh token) while the subscriber hangs.
                other = await asyncio.wait_for(sms_login(client, phone=OTHER_PHONE), 10)
                assert other["account_id"] != pair["account_id"]
                assert not relay.done()
            finally:
                release.set()
            assert await asyncio.wait_for(relay, 10) == 1
            assert await app.state.outbox.deliver_pending() == 0


class TestARestartedUpstream:
    async def test_gets_traffic_as_soon_as_it_answers(self, tokens: TokenFactory) -> None:
        """The breaker of an upstream that refused connections used to stay open for its whole
        period (5 s) and then let one user request probe: a service restarted after kill -9 got
        traffic again only 5–7 s after it was ready (test_faults.py saw it on PostgreSQL, where
        services start more slowly). Now the gateway asks its /healthz meanwhile."""
        port = free_port()
        async with running_gateway(tokens, upstreams={"jobs": f"http://127.0.0.1:{port}"}, breaker_failures=3,
                                   breaker_open_seconds=5) as (gw, client):
            for _ in range(3):
                assert (await client.get("/api/v1/jobs")).status_code == 503
            assert gw.upstreams["jobs"].breaker.state == "open"
            upstream = FakeUpstream(port=port)
            server = await asyncio.start_server(upstream.handle, "127.0.0.1", port)
            try:
                start = time.monotonic()
                while (await client.get("/api/v1/jobs")).status_code != 200:
                    assert time.monotonic() - start < 1.5, "still refused: the breaker waits out its period"
                    await asyncio.sleep(0.05)
                assert ("GET", "/healthz") in upstream.hits
                assert gw.upstreams["jobs"].breaker.state == "closed"
            finally:
                server.close()

    async def test_a_failing_upstream_keeps_its_cool_down(self, tokens: TokenFactory) -> None:
        """An upstream that answers 500 (or hangs) accepts connections: only a real request after the
        cool-down tells whether it recovered, so it is not asked for /healthz."""
        upstream = FakeUpstream(mode="fail")
        server = await asyncio.start_server(upstream.handle, "127.0.0.1", 0)
        upstream.port = server.sockets[0].getsockname()[1]
        try:
            async with running_gateway(tokens, upstreams={"jobs": upstream.url}, breaker_failures=2,
                                       breaker_open_seconds=5) as (gw, client):
                for _ in range(2):
                    assert (await client.get("/api/v1/jobs")).status_code == 500
                upstream.mode = "ok"
                for _ in range(5):
                    assert (await client.get("/api/v1/jobs")).status_code == 503
                    await asyncio.sleep(0.1)
                assert upstream.count() == 2 and gw.upstreams["jobs"].breaker.state == "open"
        finally:
            server.close()
