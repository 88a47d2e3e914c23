from __future__ import annotations

from fastapi import APIRouter, Request

from services.common.auth import client_ip
from services.common.db import SessionDep
from services.identity.accounts.service import find_or_create_by_phone
from services.identity.deps import KeysDep, KvDep, PiiDep, SenderDep, SettingsDep
from services.identity.phones import normalize_phone
from services.identity.sms import service
from services.identity.sms.schemas import SmsLogin, SmsSend, SmsSent
from services.identity.tokens.schemas import TokenPair
from services.identity.tokens.service import issue_pair

router = APIRouter(prefix="/api/v1/auth/sms", tags=["auth"])


@router.post("/send", status_code=202, response_model=SmsSent)
async def send(body: SmsSend, request: Request, session: SessionDep, settings: SettingsDep, pii: PiiDep,
               kv: KvDep, sender: SenderDep) -> SmsSent:
    """Send a 6-digit login code (valid 5 minutes; one per phone per 60 s)."""
    phone = normalize_phone(body.phone)
    ttl = await service.send_code(session=session, phone=phone, client_ip=client_ip(request), settings=settings,
                                  pii=pii, kv=kv, sender=sender)
    return SmsSent(expires_in=ttl)


@router.post("/login", response_model=TokenPair)
async def login(body: SmsLogin, session: SessionDep, settings: SettingsDep, pii: PiiDep,
                keys: KeysDep) -> TokenPair:
    """Log in with the code; the account is created on the first login of a phone."""
    phone = normalize_phone(body.phone)
    await service.check_code(session=session, phone=phone, code=body.code.strip(), settings=settings, pii=pii)
    account = await find_or_create_by_phone(session=session, phone=phone, pii=pii)
    return await issue_pair(session=session, account=account, keys=keys, access_ttl=settings.access_token_ttl,
                            refresh_ttl=settings.refresh_token_ttl)
