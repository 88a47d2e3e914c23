"""Membership service."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from services.common.app import create_service_app
from services.common.auth import TokenVerifier
from services.membership.config import MembershipSettings


def create_app(settings: MembershipSettings | None = None, *, verifier: TokenVerifier | None = None,
               transports: dict[str, httpx.AsyncBaseTransport] | None = None) -> FastAPI:
    settings = settings or MembershipSettings()
    return create_service_app(settings, title="Smart Union membership", routers=[], verifier=verifier,
                              transports=transports)
