"""POST /internal/qr/check as a plain ASGI handler (services.common.fastroute): every merchant
verify comes here.

The route declared in router.py answers everything but the plain case. Here: a JSON body that is
exactly `{"token": <string of at most 512 characters>}` (what QrTokenIn accepts) → the same
service-token rule (internal_auth.service_caller, any calling service) → the same
service.check_only → the same QrCheck, serialised by pydantic. Any other body goes to the declared
route with the body replayed, so bad input answers exactly as before.
"""

from __future__ import annotations

from starlette.types import Scope

from services.common.fastroute import header, json_route, only_string_field
from services.common.internal_auth import service_caller
from services.membership.qr import service
from services.membership.qr.schemas import QrCheck

CHECK_PATH = "/internal/qr/check"


def plain_token(scope: Scope, body: bytes) -> str | None:
    """The token when the request is the plain valid case, else None (→ the FastAPI route)."""
    return only_string_field(scope, body, "token", min_length=0, max_length=512)  # as QrTokenIn


async def check(scope: Scope, body: bytes, token: str) -> QrCheck:
    state = scope["app"].state
    service_caller(state.signer, header(scope, b"x-service-token"))
    return await service.check_only(reads=state.reads, token=token, codec=state.qr)


ROUTE = json_route("POST", CHECK_PATH, plain_token, check)
