from __future__ import annotations

from fastapi import APIRouter

from services.common.db import SessionDep
from services.identity.deps import KeysDep, SettingsDep
from services.identity.passwords import service
from services.identity.passwords.schemas import PasswordLogin
from services.identity.tokens.schemas import TokenPair
from services.identity.tokens.service import issue_pair

router = APIRouter(prefix="/api/v1/auth/password", tags=["auth"])


@router.post("/login", response_model=TokenPair)
async def login(body: PasswordLogin, session: SessionDep, settings: SettingsDep, keys: KeysDep) -> TokenPair:
    """Staff login. After 10 failures in 15 minutes the username is locked (429)."""
    account = await service.login(session=session, username=body.username, password=body.password,
                                  max_failures=settings.password_max_failures,
                                  window=settings.password_failure_window)
    return await issue_pair(session=session, account=account, keys=keys, access_ttl=settings.access_token_ttl,
                            refresh_ttl=settings.refresh_token_ttl)
