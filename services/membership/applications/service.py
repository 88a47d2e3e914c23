"""Joining online (网上入会): apply, then staff in scope approve (member + card) or reject."""

from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.auth import Principal
from services.common.crypto import PiiCipher
from services.common.db import utcnow
from services.common.masking import mask_id_number, mask_name
from services.membership.applications import repository
from services.membership.applications.errors import (
    AlreadyMember,
    ApplicationNotFound,
    ApplicationNotPending,
    ApplicationPending,
    InvalidIdNumber,
    InvalidRealName,
    PhoneRequired,
)
from services.membership.applications.idcard import normalize_id_number, normalize_real_name
from services.membership.applications.models import Application
from services.membership.applications.schemas import ApplicationCreate
from services.membership.audit import service as audit
from services.membership.events import notices
from services.membership.members import repository as members
from services.membership.members.cards import new_card_no
from services.membership.members.models import Card, Member
from services.membership.orgs import repository as orgs
from services.membership.orgs.errors import InvalidOrg
from services.membership.scope import in_scope, is_staff, staff_scope

logger = logging.getLogger("smartunion.membership.applications")

ID_CONTEXT = "membership.id_number"
NAME_CONTEXT = "membership.real_name"


def id_hash(pii: PiiCipher, id_number: str) -> str:
    return pii.lookup_hash(f"id_number:{id_number}")


async def submit(*, session: AsyncSession, principal: Principal, data: ApplicationCreate,
                 pii: PiiCipher) -> Application:
    if not principal.phone_bound:
        raise PhoneRequired
    real_name = normalize_real_name(data.real_name)
    if real_name is None:
        raise InvalidRealName
    id_number = normalize_id_number(data.id_number)
    if id_number is None:
        raise InvalidIdNumber
    employer = data.employer_name.strip()
    if not employer:
        raise InvalidOrg("请填写工作单位")
    org = await orgs.get(session, data.org_id)
    if org is None:
        raise InvalidOrg
    hashed = id_hash(pii, id_number)
    existing = await members.by_account(session, principal.account_id)
    if (existing is not None and existing.status != "closed") or await members.by_id_hash(session, hashed):
        raise AlreadyMember
    if await repository.pending_of(session, principal.account_id) is not None:
        raise ApplicationPending
    application = Application(
        account_id=principal.account_id, org_id=org.id, org_path=org.path,
        real_name_enc=pii.encrypt(real_name, context=NAME_CONTEXT), real_name_masked=mask_name(real_name),
        id_number_enc=pii.encrypt(id_number, context=ID_CONTEXT), id_number_hash=hashed,
        id_number_masked=mask_id_number(id_number), employer_name=employer, status="pending",
        pending_key=principal.account_id)
    try:
        async with session.begin_nested():
            await repository.add(session, application)
    except IntegrityError:
        raise ApplicationPending from None  # a concurrent submission of the same account won
    logger.info("application submitted", extra={"fields": {"application_id": application.id}})
    return application


async def visible(*, session: AsyncSession, principal: Principal, application_id: str) -> Application:
    """Owner or staff in scope; 404 for everyone else."""
    application = await repository.get(session, application_id)
    if application is None:
        raise ApplicationNotFound
    if application.account_id == principal.account_id:
        return application
    if is_staff(principal) and in_scope(application.org_path, await staff_scope(session, principal)):
        return application
    raise ApplicationNotFound


async def _pending_in_scope(session: AsyncSession, principal: Principal, application_id: str,
                            action: str) -> Application:
    scope = await staff_scope(session, principal)
    application = await repository.get(session, application_id, for_update=True)
    if application is None or not in_scope(application.org_path, scope):
        if application is not None:
            await audit.record_denied(session, principal, action, "application", application_id)
        raise ApplicationNotFound
    if application.status != "pending":
        raise ApplicationNotPending
    return application


async def approve(*, session: AsyncSession, principal: Principal, application_id: str) -> Application:
    application = await _pending_in_scope(session, principal, application_id, "application.approve")
    existing = await members.by_account(session, application.account_id)
    if existing is not None or (application.id_number_hash
                                and await members.by_id_hash(session, application.id_number_hash)):
        raise AlreadyMember
    member = Member(account_id=application.account_id, status="active", org_id=application.org_id,
                    org_path=application.org_path, real_name_enc=application.real_name_enc,
                    real_name_masked=application.real_name_masked, id_number_enc=application.id_number_enc,
                    id_number_hash=application.id_number_hash, id_number_masked=application.id_number_masked,
                    application_id=application.id)
    try:
        async with session.begin_nested():
            session.add(member)
            await session.flush()
    except IntegrityError:
        raise AlreadyMember from None
    for attempt in range(5):  # 10^14 numbers: a collision is rare, a second one rarer still
        try:
            async with session.begin_nested():
                session.add(Card(member_id=member.id, card_no=new_card_no(), status="active"))
                await session.flush()
            break
        except IntegrityError:
            if attempt == 4:
                raise
    now = utcnow()
    application.status, application.member_id, application.pending_key = "approved", member.id, None
    application.decided_by, application.decided_at = principal.account_id, now
    await session.flush()
    await audit.record(session, principal, "application.approve", "application", application.id,
                       detail={"member_id": member.id, "org_id": application.org_id})
    org = await orgs.get(session, application.org_id)
    await notices.application_approved(session, application, org.name if org else "工会")
    logger.info("application approved", extra={"fields": {"application_id": application.id,
                                                           "member_id": member.id}})
    return application


async def reject(*, session: AsyncSession, principal: Principal, application_id: str, reason: str) -> Application:
    application = await _pending_in_scope(session, principal, application_id, "application.reject")
    application.status, application.reason, application.pending_key = "rejected", reason.strip(), None
    application.decided_by, application.decided_at = principal.account_id, utcnow()
    await session.flush()
    await audit.record(session, principal, "application.reject", "application", application.id,
                       detail={"org_id": application.org_id})
    await notices.application_rejected(session, application)
    return application


async def listing(*, session: AsyncSession, principal: Principal, status: str | None, before: str | None,
                  limit: int) -> list[Application]:
    if is_staff(principal):
        scope = await staff_scope(session, principal)
        return await repository.listing(session, account_id=None, scope=scope, status=status, before=before,
                                        limit=limit)
    return await repository.listing(session, account_id=principal.account_id, scope=None, status=status,
                                    before=before, limit=limit)
