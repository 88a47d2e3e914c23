from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest

from gateway.config import GatewaySettings
from gateway.main import Gateway
from services.common.config import SERVICE_NAMES
from tests.stack import free_port
from tests.tokens import TokenFactory


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: starts real processes (the whole stack)")


def random_ip() -> str:
    """A client address of its own per test, so limits kept in a shared Redis never collide."""
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


@asynccontextmanager
async def running_gateway(tokens: TokenFactory, *, client_ip: str | None = None,
                          **overrides: Any) -> AsyncIterator[tuple[Gateway, httpx.AsyncClient]]:
    """A gateway in-process; every upstream a closed port unless `upstreams` names one."""
    dead = f"http://127.0.0.1:{free_port()}"
    upstreams = {name: dead for name in SERVICE_NAMES} | overrides.pop("upstreams", {})
    settings = GatewaySettings(upstreams=upstreams, LOG_LEVEL="WARNING", **overrides)
    gateway = Gateway(settings, verifier=tokens.verifier())
    await gateway.startup()
    transport = httpx.ASGITransport(app=gateway, client=(client_ip or random_ip(), 40000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
            yield gateway, client
    finally:
        await gateway.shutdown()


GatewayMaker = Callable[..., AbstractAsyncContextManager[tuple[Gateway, httpx.AsyncClient]]]


@pytest.fixture
def make_gateway(tokens: TokenFactory) -> GatewayMaker:
    def make(**overrides: Any) -> AbstractAsyncContextManager[tuple[Gateway, httpx.AsyncClient]]:
        return running_gateway(tokens, **overrides)

    return make
