"""Jobs service: postings reviewed by union staff, Chinese full-text search, applications."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from services.common.app import create_service_app
from services.common.auth import TokenVerifier
from services.common.crypto import load_pii_cipher
from services.common.http import OrgDirectory
from services.common.outbox import relay_for
from services.jobs.applications.router import router as applications_router
from services.jobs.config import JobsSettings
from services.jobs.events.models import OutboxEvent
from services.jobs.events.router import router as events_router
from services.jobs.postings.router import router as postings_router


def create_app(settings: JobsSettings | None = None, *, verifier: TokenVerifier | None = None,
               transports: dict[str, httpx.AsyncBaseTransport] | None = None) -> FastAPI:
    settings = settings or JobsSettings()

    @asynccontextmanager
    async def hook(app: FastAPI) -> AsyncIterator[None]:
        app.state.pii = load_pii_cipher(settings.pii_keys, settings.key_file("pii-jobs.keys"))
        app.state.orgs = OrgDirectory(app.state.clients["membership"])
        # Notifications (an application seen by the poster) → identity's inbox.
        app.state.outbox = relay_for(app, OutboxEvent, ("identity",))
        if settings.outbox_interval > 0:
            app.state.outbox.start()
        try:
            yield
        finally:
            await app.state.outbox.stop()

    # The applications router first: /jobs/applications/mine must win over /jobs/{id}.
    return create_service_app(settings, title="Smart Union jobs", hook=hook, calls=("membership", "identity"),
                              routers=[applications_router, postings_router, events_router],
                              verifier=verifier, transports=transports,
                              event_sources=("identity",))  # account.closed → erase (DELETE /me)
