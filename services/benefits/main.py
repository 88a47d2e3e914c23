"""Benefits service."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from services.benefits.config import BenefitsSettings
from services.common.app import create_service_app
from services.common.auth import TokenVerifier


def create_app(settings: BenefitsSettings | None = None, *, verifier: TokenVerifier | None = None,
               transports: dict[str, httpx.AsyncBaseTransport] | None = None) -> FastAPI:
    settings = settings or BenefitsSettings()
    return create_service_app(settings, title="Smart Union benefits", routers=[], verifier=verifier,
                              transports=transports)
