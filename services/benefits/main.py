"""Benefits service: partner merchants, offers, the signed merchant API and redemptions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from services.benefits.config import BenefitsSettings
from services.benefits.events.router import internal as events_internal
from services.benefits.membership import MembershipClient
from services.benefits.merchant_api import fast as fast_verify
from services.benefits.merchant_api.auth import KeyCache
from services.benefits.merchant_api.nonces import DatabaseNonceStore, NonceStore, RedisNonceStore
from services.benefits.merchant_api.router import router as merchant_api_router
from services.benefits.merchants.router import router as merchants_router
from services.benefits.offers.router import router as offers_router
from services.benefits.redemptions.router import router as redemptions_router
from services.common.app import create_service_app
from services.common.auth import TokenVerifier
from services.common.crypto import load_pii_cipher
from services.common.fastroute import add_fast_routes
from services.common.http import OrgDirectory


def create_app(settings: BenefitsSettings | None = None, *, verifier: TokenVerifier | None = None,
               transports: dict[str, httpx.AsyncBaseTransport] | None = None) -> FastAPI:
    settings = settings or BenefitsSettings()

    @asynccontextmanager
    async def hook(app: FastAPI) -> AsyncIterator[None]:
        # Merchant API secrets are encrypted at rest with the service's PII keys.
        app.state.cipher = load_pii_cipher(settings.pii_keys, settings.key_file("pii-benefits.keys"))
        app.state.orgs = OrgDirectory(app.state.clients["membership"])
        app.state.membership = MembershipClient(app.state.clients["membership"])
        app.state.merchant_keys = KeyCache()
        redis = None
        if settings.redis_url:
            from redis.asyncio import Redis  # only then: redis-py costs ~19 MB per process

            redis = Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
        nonces: NonceStore = (RedisNonceStore(redis, app.state.db, prefix=f"{settings.redis_namespace}:benefits")
                              if redis else DatabaseNonceStore(app.state.db))
        app.state.nonces = nonces
        try:
            yield
        finally:
            await nonces.aclose()
            if redis is not None:
                await redis.aclose()

    app = create_service_app(
        settings, title="Smart Union benefits", hook=hook, calls=("membership",), verifier=verifier,
        transports=transports,
        event_sources=("identity",),  # account.closed → erase (DELETE /me)
        routers=[merchants_router, offers_router, redemptions_router, merchant_api_router, events_internal],
    )
    # The merchant verify as a plain ASGI route in front of FastAPI's (merchant_api/fast.py).
    add_fast_routes(app, fast_verify.ROUTE)
    return app
