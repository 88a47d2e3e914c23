from __future__ import annotations

from fastapi import APIRouter

from services.common.auth import PrincipalDep
from services.common.db import SessionDep
from services.identity.accounts import repository as accounts
from services.identity.deps import KeysDep, PiiDep, SettingsDep, WechatDep
from services.identity.tokens.schemas import TokenPair, WechatTokenPair
from services.identity.tokens.service import issue_pair
from services.identity.wechat import service
from services.identity.wechat.schemas import WechatCode

router = APIRouter(prefix="/api/v1/auth/wechat", tags=["auth"])


@router.post("/login", response_model=WechatTokenPair)
async def login(body: WechatCode, session: SessionDep, settings: SettingsDep, keys: KeysDep, pii: PiiDep,
                wechat: WechatDep) -> WechatTokenPair:
    """Mini-program login with the code from `wx.login`."""
    account = await service.login(session=session, client=wechat, pii=pii, js_code=body.code)
    pair = await issue_pair(session=session, account=account, keys=keys, access_ttl=settings.access_token_ttl,
                            refresh_ttl=settings.refresh_token_ttl)
    return WechatTokenPair(**pair.model_dump(), phone_bound=account.phone_hash is not None)


@router.post("/phone", response_model=TokenPair)
async def bind_phone(body: WechatCode, principal: PrincipalDep, session: SessionDep, settings: SettingsDep,
                     keys: KeysDep, pii: PiiDep, wechat: WechatDep) -> TokenPair:
    """Bind the phone from `getPhoneNumber`; answers tokens for the account that now owns it."""
    account = await service.bind_phone(session=session, client=wechat, pii=pii, account_id=principal.account_id,
                                       code=body.code)
    account = await accounts.get(session, account.id) or account
    return await issue_pair(session=session, account=account, keys=keys, access_ttl=settings.access_token_ttl,
                            refresh_ttl=settings.refresh_token_ttl)
