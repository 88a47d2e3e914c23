"""Jobs service."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from services.common.app import create_service_app
from services.common.auth import TokenVerifier
from services.jobs.config import JobsSettings


def create_app(settings: JobsSettings | None = None, *, verifier: TokenVerifier | None = None,
               transports: dict[str, httpx.AsyncBaseTransport] | None = None) -> FastAPI:
    settings = settings or JobsSettings()
    return create_service_app(settings, title="Smart Union jobs", routers=[], verifier=verifier,
                              transports=transports)
