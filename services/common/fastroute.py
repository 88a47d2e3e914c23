"""Hot routes served as plain ASGI handlers, in front of FastAPI's router.

Why: on the merchant verify path (a verify in benefits plus a QR check in membership) FastAPI's
per-request machinery — dependency solving, body parsing and validation, response serialisation,
its exception and exit-stack middleware, route matching — was most of the CPU (bench/benefits.md).
A handler here does the same work with the same rules, without that machinery.

Where: installed inside `RequestContextMiddleware` (request id, body-size limit, metrics, access
log all apply as for any route) and outside FastAPI's exception middleware and router. A handler
answers a `ProblemError` itself (the same problem+json as the app's handler); anything else it
raises goes to `RequestContextMiddleware`, which answers unexpected errors for every route.

The route stays declared in FastAPI as well, so it is documented in the OpenAPI document exactly
as before, and it is the *fallback*: a fast handler takes only the plain, valid case (a JSON body
of the expected shape) and hands anything else — malformed JSON, wrong types, missing or extra
fields, another content type — to the FastAPI route with the body replayed, so bad input gets
exactly the answer it got before (same status, code, `errors`, order of checks).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson
from fastapi import FastAPI
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.common.errors import ProblemError, problem_response

# (scope, receive, send, fallback) → None; `fallback` is the rest of the app (FastAPI's route).
Handler = Callable[[Scope, Receive, Send, ASGIApp], Awaitable[None]]


class FastRoute:
    """One method + exact path. `path` is the route template the metrics and the access log use."""

    def __init__(self, method: str, path: str, handler: Handler) -> None:
        self.method = method
        self.path = path
        self.handler = handler


class FastRoutes:
    def __init__(self, app: ASGIApp, *, routes: Mapping[tuple[str, str], FastRoute]) -> None:
        self.app = app
        self.routes = dict(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            route = self.routes.get((scope["method"], scope["path"]))
            if route is not None and not scope.get("root_path"):
                scope["route"] = route  # RequestContextMiddleware labels metrics with route.path
                await route.handler(scope, receive, send, self.app)
                return
        await self.app(scope, receive, send)


def json_route(method: str, path: str, plain: Callable[[Scope, bytes], str | None],
               answer: Callable[[Scope, bytes, str], Awaitable[Any]]) -> FastRoute:
    """The shape of every fast route: `plain` picks the plain valid request's value out of the body
    (None: anything else, replayed to the declared FastAPI route); `answer` turns it into a pydantic
    model, sent as FastAPI would send it; a ProblemError is answered as the app's handler does."""

    async def handler(scope: Scope, receive: Receive, send: Send, fallback: ASGIApp) -> None:
        body = await read_body(receive)
        if body is None:  # the client went away
            return
        value = plain(scope, body)
        if value is None:
            await fallback(scope, replay(body, receive), send)
            return
        try:
            result = await answer(scope, body, value)
        except ProblemError as exc:
            await send_problem(scope, receive, send, exc)
            return
        await send_json(send, result.__pydantic_serializer__.to_json(result))

    return FastRoute(method, path, handler)


def only_string_field(scope: Scope, body: bytes, field: str, *, min_length: int, max_length: int) -> str | None:
    """`field` when the request is JSON and its body exactly `{field: <string of min..max
    characters>}`, else None."""
    if not is_json(scope):
        return None
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:  # stricter than json.loads: anything it refuses goes the slow way
        return None
    if type(data) is not dict or len(data) != 1:
        return None
    value = data.get(field)
    if type(value) is not str or not min_length <= len(value) <= max_length:
        return None
    return value


def add_fast_routes(app: FastAPI, *routes: FastRoute) -> None:
    """Install `routes` inside the request middleware (call after create_service_app)."""
    # Starlette builds user_middleware[0] as the outermost layer: appended here, FastRoutes sits
    # inside RequestContextMiddleware (added first by create_service_app) and before FastAPI's
    # exception middleware and router.
    app.user_middleware.append(Middleware(FastRoutes, routes={(r.method, r.path): r for r in routes}))


async def read_body(receive: Receive) -> bytes | None:
    """The whole request body, or None when the client went away first."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives `body` again (for the fallback), then whatever the client sends."""
    sent = False

    async def again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of a (lower-case) request header, as Starlette's Headers.get gives it."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def is_json(scope: Scope) -> bool:
    """Content-Type application/json (any parameters): the only type a fast handler takes. The
    rest (absent, +json, form, text) goes to the FastAPI route, which decides as it always did."""
    value = header(scope, b"content-type")
    return value is not None and value.split(";", 1)[0].strip().lower() == "application/json"


async def send_json(send: Send, body: bytes, status: int = 200) -> None:
    """A JSON answer with the headers FastAPI's JSONResponse sends."""
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


async def send_problem(scope: Scope, receive: Receive, send: Send, exc: ProblemError) -> None:
    """What the app's ProblemError handler answers (services.common.errors)."""
    response = problem_response(exc.status, exc.code, exc.detail, headers=exc.headers, **(exc.extra or {}))
    await response(scope, receive, send)

