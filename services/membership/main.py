"""Membership service: the union tree, online applications, members and cards, the rotating QR
code and its internal check / consume API, transfers between unions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from services.common.app import create_service_app
from services.common.auth import TokenVerifier
from services.common.config import read_or_create_secret
from services.common.crypto import load_pii_cipher
from services.common.fastread import FastReads
from services.common.fastroute import add_fast_routes
from services.common.outbox import relay_for
from services.membership.applications.router import router as applications_router
from services.membership.config import MembershipSettings
from services.membership.events.models import OutboxEvent
from services.membership.events.router import internal as events_internal
from services.membership.members.router import internal as members_internal
from services.membership.members.router import router as members_router
from services.membership.orgs.router import internal as orgs_internal
from services.membership.orgs.router import router as orgs_router
from services.membership.qr import fast as fast_qr_check
from services.membership.qr.codec import QrCodec
from services.membership.qr.router import internal as qr_internal
from services.membership.qr.router import router as qr_router
from services.membership.transfers.router import router as transfers_router


def create_app(settings: MembershipSettings | None = None, *, verifier: TokenVerifier | None = None,
               transports: dict[str, httpx.AsyncBaseTransport] | None = None) -> FastAPI:
    settings = settings or MembershipSettings()

    @asynccontextmanager
    async def hook(app: FastAPI) -> AsyncIterator[None]:
        app.state.pii = load_pii_cipher(settings.pii_keys, settings.key_file("pii-membership.keys"))
        app.state.qr = QrCodec.from_spec(settings.qr_key or
                                         read_or_create_secret(settings.key_file("membership-qr.key")))
        # Notifications (application decided, transfer completed) → identity's inbox.
        app.state.outbox = relay_for(app, OutboxEvent, ("identity",))
        if settings.outbox_interval > 0:
            app.state.outbox.start()
        app.state.reads = FastReads(app.state.db)
        try:
            yield
        finally:
            await app.state.outbox.stop()
            await app.state.reads.aclose()

    app = create_service_app(
        settings, title="Smart Union membership", hook=hook, calls=("identity",), verifier=verifier,
        transports=transports,
        event_sources=("identity",),  # account.closed → erase (DELETE /me)
        # The QR check first: every merchant verify comes here, and routes are matched in order
        # (internal paths cannot clash with public ones).
        routers=[qr_internal, orgs_router, applications_router, members_router, qr_router, transfers_router,
                 orgs_internal, members_internal, events_internal],
    )
    # The QR check as a plain ASGI route in front of FastAPI's (qr/fast.py).
    add_fast_routes(app, fast_qr_check.ROUTE)
    return app
