"""Accounts: created on first phone login, by an admin for staff, or from the environment for the
bootstrap admin; closed on request (PIPL art. 47)."""

from __future__ import annotations

import logging
import time

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.crypto import PiiCipher
from services.common.db import utcnow
from services.common.http import OrgDirectory
from services.common.masking import mask_phone
from services.common.outbox import emit
from services.identity.accounts import repository
from services.identity.accounts.errors import InvalidOrg, UsernameTaken
from services.identity.accounts.models import Account, OutboxEvent
from services.identity.accounts.schemas import AccountCreate
from services.identity.notifications import repository as notifications
from services.identity.passwords.service import hash_password
from services.identity.tokens import repository as tokens

logger = logging.getLogger("smartunion.identity.accounts")


def set_phone(account: Account, phone: str, pii: PiiCipher) -> None:
    account.phone_enc = pii.encrypt(phone, context="phone")
    account.phone_hash = pii.lookup_hash(f"phone:{phone}")
    account.phone_masked = mask_phone(phone)


async def find_or_create_by_phone(*, session: AsyncSession, phone: str, pii: PiiCipher) -> Account:
    phone_hash = pii.lookup_hash(f"phone:{phone}")
    account = await repository.by_phone_hash(session, phone_hash)
    if account is not None:
        return account
    account = Account(display_name=f"用户{phone[-4:]}", roles=[])
    set_phone(account, phone, pii)
    try:
        async with session.begin_nested():
            await repository.add(session, account)
    except IntegrityError:
        # Two first logins of the same phone at once: the other one created it.
        existing = await repository.by_phone_hash(session, phone_hash)
        if existing is None:
            raise
        return existing
    logger.info("account created", extra={"fields": {"account_id": account.id, "via": "sms"}})
    return account


async def create_account(*, session: AsyncSession, data: AccountCreate, orgs: OrgDirectory | None) -> Account:
    if await repository.by_username(session, data.username) is not None:
        raise UsernameTaken
    if data.org_id is not None and orgs is not None and await orgs.get(data.org_id) is None:
        raise InvalidOrg
    account = Account(username=data.username, password_hash=hash_password(data.password),
                      display_name=data.display_name, roles=sorted(set(data.roles)), org_id=data.org_id)
    try:
        async with session.begin_nested():
            await repository.add(session, account)
    except IntegrityError:
        raise UsernameTaken from None
    return account


async def ensure_bootstrap_admin(*, session: AsyncSession, username: str, password: str) -> None:
    if await repository.by_username(session, username) is not None:
        return
    try:
        async with session.begin_nested():
            await repository.add(session, Account(username=username, password_hash=hash_password(password),
                                                  display_name="系统管理员", roles=["admin"], org_id=None))
    except IntegrityError:
        return  # another replica starting at the same moment created it
    logger.info("bootstrap admin created")


async def revoke_everything(*, session: AsyncSession, account: Account) -> None:
    """Kill the account's refresh tokens now and its access tokens within a poll interval."""
    await tokens.revoke_account(session, account.id, utcnow())
    await repository.add_revocation(session, account.id, time.time())


async def close_account(*, session: AsyncSession, account: Account) -> None:
    """Close at once; the phone is released (a later login starts a new, empty account), personal
    data erased here, and an `account.closed` event tells every other service to erase theirs."""
    account.status = "closed"
    account.closed_at = utcnow()
    account.phone_enc = account.phone_hash = account.phone_masked = None
    account.display_name = None
    if account.username:
        account.username = f"closed-{account.id}"
    account.password_hash = None
    await repository.delete_wechat_identities(session, account.id)
    await notifications.delete_for(session, account.id)
    await revoke_everything(session=session, account=account)
    await emit(session, OutboxEvent, "account.closed", {"account_id": account.id})
    logger.info("account closed", extra={"fields": {"account_id": account.id}})
