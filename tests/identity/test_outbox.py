"""DELETE /me reaches every other service through the outbox, even one that was down."""

from __future__ import annotations

import json

import httpx
from fastapi import FastAPI, Request

from services.identity.config import IdentitySettings
from services.identity.main import EVENT_SUBSCRIBERS, create_app
from tests.apps import running
from tests.identity.conftest import bearer, sms_login


def _subscriber(received: list[dict], state: dict[str, bool]) -> FastAPI:
    app = FastAPI()

    @app.post("/internal/events")
    async def events(request: Request) -> dict[str, str]:
        if not request.headers.get("x-service-token"):
            return {"status": "unauthenticated"}
        if state["down"]:
            raise RuntimeError("down")
        received.append(json.loads(await request.body()))
        return {"status": "ok"}

    return app


class TestAccountClosedEvent:
    async def test_delivered_to_every_service_even_after_an_outage(self, identity_settings: IdentitySettings) -> None:
        received: dict[str, list[dict]] = {name: [] for name in EVENT_SUBSCRIBERS}
        state = {"down": True}
        transports = {name: httpx.ASGITransport(app=_subscriber(received[name], state), raise_app_exceptions=False)
                      for name in EVENT_SUBSCRIBERS}
        app = create_app(identity_settings, transports=transports)
        async with running(app) as client:
            pair = await sms_login(client)
            assert (await client.delete("/api/v1/me", headers=bearer(pair))).status_code == 202
            assert await app.state.outbox.deliver_pending() == 0  # subscribers down: kept for later
            state["down"] = False
            assert await app.state.outbox.deliver_pending() == 1
            assert await app.state.outbox.deliver_pending() == 0  # delivered once, not again
        for name in EVENT_SUBSCRIBERS:
            topics = [(e["topic"], e["payload"]["account_id"]) for e in received[name]]
            assert topics == [("account.closed", pair["account_id"])], name
