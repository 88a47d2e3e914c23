"""Mini-program login (openid → account) and phone binding with account merge."""

from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.crypto import PiiCipher
from services.identity.accounts import repository as accounts
from services.identity.accounts.errors import PhoneConflict
from services.identity.accounts.models import Account, WechatIdentity
from services.identity.accounts.service import revoke_everything, set_phone
from services.identity.phones import normalize_phone
from services.identity.wechat.client import WechatClient
from services.identity.wechat.errors import NotAWechatAccount

logger = logging.getLogger("smartunion.identity.wechat")


async def login(*, session: AsyncSession, client: WechatClient, pii: PiiCipher, js_code: str) -> Account:
    wx = await client.code2session(js_code)
    identity = await accounts.wechat_identity(session, wx.openid)
    session_key_enc = pii.encrypt(wx.session_key, context="wechat_session_key")
    if identity is not None:
        account = await accounts.get_active(session, identity.account_id)
        if account is not None:
            identity.session_key_enc = session_key_enc
            return account
        await session.delete(identity)
        await session.flush()
    account = await accounts.add(session, Account(display_name="微信用户", roles=[]))
    try:
        async with session.begin_nested():
            session.add(WechatIdentity(openid=wx.openid, unionid=wx.unionid, account_id=account.id,
                                       session_key_enc=session_key_enc))
            await session.flush()
    except IntegrityError:
        # The same user's two first logins raced; use the account the other one created.
        await session.delete(account)
        identity = await accounts.wechat_identity(session, wx.openid)
        other = await accounts.get_active(session, identity.account_id) if identity else None
        if other is None:
            raise
        return other
    logger.info("account created", extra={"fields": {"account_id": account.id, "via": "wechat"}})
    return account


async def bind_phone(*, session: AsyncSession, client: WechatClient, pii: PiiCipher, account_id: str,
                     code: str) -> Account:
    """Bind the WeChat-verified phone. If an app account already owns it, the WeChat identity joins
    that account and the empty mini-program account is retired (its tokens die)."""
    account = await accounts.get_active(session, account_id)
    identities = await accounts.wechat_identities_of(session, account_id) if account else []
    if account is None or not identities:
        raise NotAWechatAccount
    phone = normalize_phone(await client.phone_number(code))
    owner = await accounts.by_phone_hash(session, pii.lookup_hash(f"phone:{phone}"))
    if owner is None or owner.id == account.id:
        if account.phone_hash is not None and owner is None:
            raise PhoneConflict
        set_phone(account, phone, pii)
        return account
    if account.phone_hash is not None:
        raise PhoneConflict
    for identity in identities:
        identity.account_id = owner.id
    account.status = "merged"
    await revoke_everything(session=session, account=account)
    logger.info("wechat identity merged", extra={"fields": {"from": account.id, "into": owner.id}})
    return owner
