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

from starlette.types import Scope

from services.benefits.merchant_api.auth import check_signed
from services.benefits.redemptions import service
from services.benefits.redemptions.schemas import VerifyOut
from services.common.fastroute import header, json_route, only_string_field

VERIFY_PATH = "/api/v1/merchant/verify"


def plain_token(scope: Scope, body: bytes) -> str | None:
    """The QR token when the request is the plain valid case, else None (→ the FastAPI route)."""
    return only_string_field(scope, body, "qr_token", min_length=1, max_length=512)  # as VerifyIn


async def verify(scope: Scope, body: bytes, token: str) -> VerifyOut:
    async def raw_body() -> bytes:
        return body

    state = scope["app"].state
    await check_signed(state, scope, lambda name: header(scope, name.encode()), raw_body)
    return await service.verify(membership=state.membership, token=token)


ROUTE = json_route("POST", VERIFY_PATH, plain_token, verify)
