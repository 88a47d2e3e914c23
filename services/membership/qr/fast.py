"""POST /internal/qr/check as a plain ASGI handler (services.common.fastroute): every merchant
verify comes here.

The route declared in router.py answers everything but the plain case. Here: a JSON body that is
exactly `{"token": <string of at most 512 characters>}` (what QrTokenIn accepts) → the same
service-token rule (internal_auth.service_caller, any calling service) → the same
service.check_only → the same QrCheck, serialised by pydantic. Any other body goes to the declared
route with the body replayed, so bad input answers exactly as before.
"""

from __future__ import annotations

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from services.common.errors import ProblemError
from services.common.fastroute import FastRoute, header, is_json, read_body, replay, send_json, send_problem
from services.common.internal_auth import service_caller
from services.membership.qr import service

CHECK_PATH = "/internal/qr/check"
_MAX_TOKEN = 512  # QrTokenIn.token: max_length=512


def plain_token(scope: Scope, body: bytes) -> str | None:
    """The token when the request is the plain valid case, else None (→ the FastAPI route)."""
    if not is_json(scope):
        return None
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:  # stricter than json.loads: anything it refuses goes the slow way
        return None
    if type(data) is not dict or len(data) != 1:
        return None
    token = data.get("token")
    if type(token) is not str or len(token) > _MAX_TOKEN:
        return None
    return token


async def check(scope: Scope, receive: Receive, send: Send, fallback: ASGIApp) -> None:
    body = await read_body(receive)
    if body is None:  # the client went away
        return
    token = plain_token(scope, body)
    if token is None:
        await fallback(scope, replay(body, receive), send)
        return
    state = scope["app"].state
    try:
        service_caller(state.signer, header(scope, b"x-service-token"))
        verdict = await service.check_only(reads=state.reads, token=token, codec=state.qr)
    except ProblemError as exc:
        await send_problem(scope, receive, send, exc)
        return
    await send_json(send, verdict.__pydantic_serializer__.to_json(verdict))


ROUTE = FastRoute("POST", CHECK_PATH, check)
