"""The app factory every service uses: the same error shape, middleware, health, readiness and
metrics everywhere, and the shared resources (database, token verifier, service clients, key-value
store) created in the lifespan — never at import time."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.responses import Response

from services.common import streams
from services.common.auth import TokenVerifier
from services.common.config import CommonSettings
from services.common.db import Database
from services.common.errors import install_error_handlers, problem_response
from services.common.http import ServiceClient
from services.common.internal_auth import ServiceSigner
from services.common.kv import make_store
from services.common.logging import configure_logging
from services.common.middleware import RequestContextMiddleware

logger = logging.getLogger("smartunion.events")

Hook = Callable[[FastAPI], AbstractAsyncContextManager[None]]


@asynccontextmanager
async def _no_hook(_: FastAPI) -> AsyncIterator[None]:
    yield


def create_service_app(
    settings: CommonSettings,
    *,
    title: str,
    routers: Sequence[APIRouter],
    calls: Sequence[str] = (),
    event_sources: Sequence[str] = (),
    hook: Hook = _no_hook,
    verifier: TokenVerifier | None = None,
    transports: dict[str, httpx.AsyncBaseTransport] | None = None,
    max_body: Callable[[str], int] | None = None,
    description: str = "",
) -> FastAPI:
    """Build a service app.

    `calls` names the services this one talks to; a `ServiceClient` for each lands on
    `app.state.clients[name]`. `event_sources` names the services whose events this one
    receives: with events over Redis (production) a stream consumer reads them and hands them to
    this app's own `/internal/events`; over HTTP (the default) the producers push them there.
    Tests pass `verifier` and `transports` to run everything
    in-process; production builds them from settings.
    """
    service = settings.service_name
    transports = transports or {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(service, settings.log_level)
        app.state.settings = settings
        app.state.db = Database(settings.resolved_database_url())
        app.state.signer = ServiceSigner(settings.resolved_internal_secret(), service)
        app.state.kv = make_store(settings.redis_url, f"{settings.redis_namespace}:{service}")
        app.state.clients = {
            name: ServiceClient(name, settings.service_url(name), app.state.signer,
                                transport=transports.get(name))
            for name in calls
        }
        # The revocation poll calls identity's /internal/revocations, which wants a service token.
        async def _sign(request: httpx.Request) -> None:
            request.headers["x-service-token"] = app.state.signer.token_for("identity")

        own_http = httpx.AsyncClient(transport=transports.get("identity"), event_hooks={"request": [_sign]})
        app.state.event_redis = streams.connect(settings.redis_url) if (
            settings.events_via_redis() and settings.redis_url) else None
        consumer = None
        if verifier is not None:
            app.state.verifier = verifier
        elif service != "identity":
            base = settings.service_url("identity")
            app.state.verifier = TokenVerifier(f"{base}/.well-known/jwks.json",
                                               revocations_url=f"{base}/internal/revocations",
                                               client=own_http)
            app.state.verifier.start()
        try:
            async with hook(app):
                # Started once the hook has built what the event handlers use.
                if app.state.event_redis is not None and event_sources:
                    consumer = streams.StreamConsumer(
                        app.state.event_redis, namespace=settings.redis_namespace, group=service,
                        sources=event_sources, deliver=_deliver_in_process(app, settings))
                    consumer.start()
                app.state.event_consumer = consumer
                yield
        finally:
            if consumer is not None:
                await consumer.stop()
            if app.state.event_redis is not None:
                await app.state.event_redis.aclose()
            if isinstance(getattr(app.state, "verifier", None), TokenVerifier):
                await app.state.verifier.stop()
            for client in app.state.clients.values():
                await client.aclose()
            await own_http.aclose()
            await app.state.kv.aclose()
            await app.state.db.dispose()

    app = FastAPI(title=title, description=description, lifespan=lifespan, version="1.0.0",
                  docs_url=None if settings.is_production else "/docs", redoc_url=None)
    install_error_handlers(app)
    for router in routers:
        app.include_router(router)
    _add_operational_routes(app)
    _document_problems(app)
    json_limit = settings.max_json_body
    app.add_middleware(RequestContextMiddleware, service=service,
                       max_body=max_body or (lambda _path: json_limit))
    return app


def _deliver_in_process(app: FastAPI, settings: CommonSettings) -> streams.Deliver:
    """Hand a stream entry to this app's own `POST /internal/events` without a network hop: the
    same validation, service-token check (in the producer's name: the stream says who produced
    it) and idempotent handler as an HTTP push."""
    transport = httpx.ASGITransport(app=app)
    clients: dict[str, ServiceClient] = {}

    async def deliver(producer: str, event: dict[str, Any]) -> bool:
        client = clients.get(producer)
        if client is None:
            signer = ServiceSigner(settings.resolved_internal_secret(), producer)
            client = clients[producer] = ServiceClient(settings.service_name, "http://events.internal", signer,
                                                       transport=transport, timeout=30)
        resp = await client.request("POST", "/internal/events", json=event)
        if resp.status_code != 200:
            logger.warning("event refused", extra={"fields": {"from": producer, "status": resp.status_code,
                                                              "topic": event["topic"]}})
        return resp.status_code == 200

    return deliver


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object", "title": "Problem",
    "required": ["type", "title", "status", "detail", "code", "request_id"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "code": {"type": "string"}, "request_id": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object", "properties": {
            "loc": {"type": "array", "items": {"type": "string"}}, "msg": {"type": "string"}}}},
    },
}


def _document_problems(app: FastAPI) -> None:
    """Describe errors as they are sent: every error (FastAPI documents its 422 as a plain-JSON
    `HTTPValidationError` we never send) is `application/problem+json` with a `Problem` body."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        doc = build()
        problem = {"description": "Error (RFC 9457 problem+json)",
                   "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
        for item in doc.get("paths", {}).values():
            for op in item.values():
                if isinstance(op, dict) and "responses" in op:
                    op["responses"].pop("422", None)
                    op["responses"]["4XX"] = problem
                    op["responses"]["5XX"] = problem
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
        schemas["Problem"] = PROBLEM_SCHEMA
        app.openapi_schema = doc
        return doc

    app.openapi = openapi  # type: ignore[method-assign]


def _add_operational_routes(app: FastAPI) -> None:
    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> Response:
        try:
            async with request.app.state.db.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            return problem_response(503, "not_ready", "database unreachable")
        return JSONResponse({"status": "ready"})

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def get_client(request: Request, name: str) -> ServiceClient:
    client: ServiceClient = request.app.state.clients[name]
    return client


def state(request: Request, name: str) -> Any:
    return getattr(request.app.state, name)
