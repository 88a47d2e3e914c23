"""Identity service: accounts, SMS / WeChat / password logins, tokens and JWKS."""

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
from services.identity.accounts.models import OutboxEvent
from services.identity.accounts.router import internal as accounts_internal
from services.identity.accounts.router import router as accounts_router
from services.identity.accounts.service import ensure_bootstrap_admin
from services.identity.config import IdentitySettings
from services.identity.keys import SigningKeys
from services.identity.notifications.router import internal as notifications_internal
from services.identity.notifications.router import router as notifications_router
from services.identity.passwords.router import router as password_router
from services.identity.sms.router import router as sms_router
from services.identity.sms.sender import DevelopmentSmsSender, SmsSender
from services.identity.tokens.router import router as tokens_router
from services.identity.wechat.client import WechatClient
from services.identity.wechat.router import router as wechat_router

EVENT_SUBSCRIBERS = ("membership", "benefits", "legal_aid", "jobs")
# Services whose outboxes send notifications for members' inboxes.
NOTIFICATION_SOURCES = ("membership", "legal_aid", "jobs")


def create_app(settings: IdentitySettings | None = None, *,
               transports: dict[str, httpx.AsyncBaseTransport] | None = None,
               sms_sender: SmsSender | None = None) -> FastAPI:
    settings = settings or IdentitySettings()
    transports = transports or {}

    @asynccontextmanager
    async def hook(app: FastAPI) -> AsyncIterator[None]:
        keys = (SigningKeys.from_pem_bundle(settings.signing_keys) if settings.signing_keys
                else SigningKeys.from_data_dir(settings.key_file("identity-signing.pem")))
        app.state.keys = keys
        app.state.verifier = TokenVerifier(jwks=keys.jwks())
        app.state.pii = load_pii_cipher(settings.pii_keys, settings.key_file("pii-identity.keys"))
        app.state.sms_sender = sms_sender or DevelopmentSmsSender()
        app.state.orgs = OrgDirectory(app.state.clients["membership"])
        app.state.wechat = None
        if settings.wechat_appid and settings.wechat_secret:
            app.state.wechat = WechatClient(appid=settings.wechat_appid, secret=settings.wechat_secret,
                                            base_url=settings.wechat_api_base, timeout=settings.wechat_timeout,
                                            transport=transports.get("wechat"))
        if settings.bootstrap_admin_username and settings.bootstrap_admin_password:
            async with app.state.db.sessionmaker() as session:
                await ensure_bootstrap_admin(session=session, username=settings.bootstrap_admin_username,
                                             password=settings.bootstrap_admin_password)
                await session.commit()
        # account.closed → every service erases that person's data (DELETE /me).
        app.state.outbox = relay_for(app, OutboxEvent, EVENT_SUBSCRIBERS)
        if settings.outbox_interval > 0:
            app.state.outbox.start()
        try:
            yield
        finally:
            await app.state.outbox.stop()
            if app.state.wechat is not None:
                await app.state.wechat.aclose()

    return create_service_app(
        settings, title="Smart Union identity", hook=hook, calls=EVENT_SUBSCRIBERS, transports=transports,
        event_sources=NOTIFICATION_SOURCES,
        routers=[sms_router, wechat_router, password_router, tokens_router, accounts_router, notifications_router,
                 accounts_internal, notifications_internal],
    )
