"""LegalAid service."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from services.common.app import create_service_app
from services.common.auth import TokenVerifier
from services.legal_aid.config import LegalAidSettings


def create_app(settings: LegalAidSettings | None = None, *, verifier: TokenVerifier | None = None,
               transports: dict[str, httpx.AsyncBaseTransport] | None = None) -> FastAPI:
    settings = settings or LegalAidSettings()
    return create_service_app(settings, title="Smart Union legal_aid", routers=[], verifier=verifier,
                              transports=transports)
