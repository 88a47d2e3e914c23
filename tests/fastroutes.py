"""Helpers for the tests of plain ASGI routes (services.common.fastroute): the same app without
them (FastAPI's declared routes only, as before they existed), and counts of which way each
request went, so a test can prove which path answered."""

from __future__ import annotations

from collections import Counter
from typing import Any

from fastapi import FastAPI
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from services.common.fastroute import FastRoute, FastRoutes


def without_fast_routes(app: FastAPI) -> FastAPI:
    """Drop the fast routes from an app not started yet: every request goes through FastAPI."""
    app.user_middleware = [m for m in app.user_middleware if m.cls is not FastRoutes]
    return app


def count_fast_routes(app: FastAPI) -> Counter[str]:
    """Wrap the fast handlers of an app not started yet: "fast" counts requests a fast handler
    answered itself, "fallback" those it handed to the declared FastAPI route."""
    hits: Counter[str] = Counter()

    def wrap(route: FastRoute) -> FastRoute:
        async def handler(scope: Scope, receive: Receive, send: Send, fallback: ASGIApp) -> None:
            fell_back = False

            async def counted(s: Scope, r: Receive, sd: Send) -> None:
                nonlocal fell_back
                fell_back = True
                await fallback(s, r, sd)

            await route.handler(scope, receive, send, counted)
            hits["fallback" if fell_back else "fast"] += 1

        return FastRoute(route.method, route.path, handler)

    wrapped: list[Middleware] = []
    for m in app.user_middleware:
        if m.cls is FastRoutes:
            routes: dict[Any, FastRoute] = m.kwargs["routes"]
            m = Middleware(FastRoutes, routes={key: wrap(r) for key, r in routes.items()})
        wrapped.append(m)
    app.user_middleware = wrapped
    return hits
