"""Faults that need no process: a subscriber that hangs must not stall the service that feeds it."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI

from services.identity.config import IdentitySettings
from services.identity.main import EVENT_SUBSCRIBERS, create_app
from tests.apps import running
from tests.identity.conftest import OTHER_PHONE, bearer, identity_settings, sms_login  # noqa: F401


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
