"""Legal-aid service: consultation tickets with the union's lawyers, the working-day clock,
private notes and safe attachments."""

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
from services.legal_aid.attachments.router import router as attachments_router
from services.legal_aid.attachments.storage import LocalAttachmentStore
from services.legal_aid.config import LegalAidSettings
from services.legal_aid.events.models import OutboxEvent
from services.legal_aid.events.router import internal as events_internal
from services.legal_aid.messages.router import router as messages_router
from services.legal_aid.tickets.router import router as tickets_router
from services.legal_aid.workdays.router import router as calendar_router

UPLOAD_PREFIX = "/api/v1/legal/tickets/"


def create_app(settings: LegalAidSettings | None = None, *, verifier: TokenVerifier | None = None,
               transports: dict[str, httpx.AsyncBaseTransport] | None = None) -> FastAPI:
    settings = settings or LegalAidSettings()

    @asynccontextmanager
    async def hook(app: FastAPI) -> AsyncIterator[None]:
        app.state.pii = load_pii_cipher(settings.pii_keys, settings.key_file("pii-legal_aid.keys"))
        app.state.orgs = OrgDirectory(app.state.clients["membership"])
        app.state.attachments = LocalAttachmentStore(settings.data_dir / "attachments")
        # Notifications (a reply, a status change) → identity's inbox.
        app.state.outbox = relay_for(app, OutboxEvent, ("identity",))
        if settings.outbox_interval > 0:
            app.state.outbox.start()
        try:
            yield
        finally:
            await app.state.outbox.stop()

    def max_body(path: str) -> int:
        if path.startswith(UPLOAD_PREFIX) and path.endswith("/attachments"):
            return settings.attachment_body_limit
        return settings.max_json_body

    return create_service_app(
        settings, title="Smart Union legal_aid", hook=hook, calls=("membership", "identity"), verifier=verifier,
        transports=transports, max_body=max_body,
        event_sources=("identity",),  # account.closed → erase (DELETE /me)
        routers=[tickets_router, messages_router, attachments_router, calendar_router, events_internal],
    )
