from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from services.common.db import SessionDep
from services.common.errors import Unauthenticated
from services.identity.accounts import repository as accounts
from services.identity.deps import KeysDep, SettingsDep
from services.identity.tokens import service
from services.identity.tokens.schemas import RefreshRequest, TokenPair

router = APIRouter(tags=["auth"])


@router.post("/api/v1/auth/refresh", response_model=TokenPair)
async def refresh(body: RefreshRequest, session: SessionDep, keys: KeysDep, settings: SettingsDep) -> TokenPair:
    """Rotate: the presented refresh token dies and a new pair is issued. Presenting a dead one
    revokes every token of that login (401 `refresh_token_reused`)."""
    link = await service.spend(session=session, raw=body.refresh_token)
    account = await accounts.get_active(session, link.account_id)
    if account is None:
        raise Unauthenticated("账号不可用")
    return await service.issue_pair(session=session, account=account, keys=keys, family_id=link.family_id,
                                    access_ttl=settings.access_token_ttl, refresh_ttl=settings.refresh_token_ttl)


@router.post("/api/v1/auth/logout", status_code=204, response_class=Response)
async def logout(body: RefreshRequest, session: SessionDep) -> Response:
    """End this login: its refresh token family is revoked."""
    await service.revoke_by_token(session=session, raw=body.refresh_token)
    return Response(status_code=204)


@router.get("/.well-known/jwks.json", include_in_schema=False)
async def jwks(keys: KeysDep) -> dict[str, Any]:
    return keys.jwks()
