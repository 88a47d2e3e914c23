"""Run service apps in-process (lifespan included) and talk to them over httpx."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

TEST_INTERNAL_SECRET = "test-internal-secret-0123456789abcdef"


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


def transport(app: FastAPI) -> httpx.ASGITransport:
    return httpx.ASGITransport(app=app)
