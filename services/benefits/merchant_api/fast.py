"""POST /api/v1/merchant/verify as a plain ASGI handler (services.common.fastroute).

The route declared in router.py documents it and answers everything but the plain case. Here:
a JSON body that is exactly `{"qr_token": <string of 1..512 characters>}` (what VerifyIn accepts)
→ the same signature check (auth.check_signed: every failure its own 401, nonce claimed only
after the signature matched, revocation checked inside the claim) → the same service.verify →
the same VerifyOut, serialised by pydantic. Any other body goes to the declared route untouched,
so malformed JSON (400), wrong types, missing or extra fields (422, after the signature check as
before) answer exactly as they always did.
"""

from __future__ import annotations

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from services.benefits.merchant_api.auth import check_signed
from services.benefits.redemptions import service
from services.common.errors import ProblemError
from services.common.fastroute import FastRoute, header, is_json, read_body, replay, send_json, send_problem

VERIFY_PATH = "/api/v1/merchant/verify"
_MAX_TOKEN = 512  # VerifyIn.qr_token: min_length=1, max_length=512


def plain_token(scope: Scope, body: bytes) -> str | None:
    """The QR token when the request is the plain valid case, else None (→ the FastAPI route)."""
    if not is_json(scope):
        return None
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:  # stricter than json.loads: anything it refuses goes the slow way
        return None
    if type(data) is not dict or len(data) != 1:
        return None
    token = data.get("qr_token")
    if type(token) is not str or not 1 <= len(token) <= _MAX_TOKEN:
        return None
    return token


async def verify(scope: Scope, receive: Receive, send: Send, fallback: ASGIApp) -> None:
    body = await read_body(receive)
    if body is None:  # the client went away
        return
    token = plain_token(scope, body)
    if token is None:
        await fallback(scope, replay(body, receive), send)
        return

    async def raw_body() -> bytes:
        return body

    state = scope["app"].state
    try:
        await check_signed(state, scope, lambda name: header(scope, name.encode()), raw_body)
        answer = await service.verify(membership=state.membership, token=token)
    except ProblemError as exc:
        await send_problem(scope, receive, send, exc)
        return
    await send_json(send, answer.__pydantic_serializer__.to_json(answer))


ROUTE = FastRoute("POST", VERIFY_PATH, verify)
