"""会员关系转移接续: the member asks to move; staff whose scope covers the target union decide.
Completion changes the member's org in the request's single transaction; the member row, its
card (number and status) and its history are untouched, so the card never stops working."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.auth import Principal
from services.common.db import utcnow
from services.membership.audit import service as audit
from services.membership.events import notices
from services.membership.members import repository as members
from services.membership.members.errors import MemberNotActive, NotAMember
from services.membership.orgs import repository as orgs
from services.membership.orgs.errors import InvalidOrg
from services.membership.scope import in_scope, is_staff, staff_scope
from services.membership.transfers import repository
from services.membership.transfers.errors import SameOrg, TransferNotFound, TransferNotPending, TransferPending
from services.membership.transfers.models import Transfer


async def request_transfer(*, session: AsyncSession, principal: Principal, to_org_id: str, reason: str) -> Transfer:
    member = await members.by_account(session, principal.account_id)
    if member is None or member.status == "closed":
        raise NotAMember
    if member.status != "active":
        raise MemberNotActive
    target = await orgs.get(session, to_org_id)
    if target is None:
        raise InvalidOrg
    if target.id == member.org_id:
        raise SameOrg
    if await repository.pending_of(session, member.id) is not None:
        raise TransferPending
    transfer = Transfer(member_id=member.id, account_id=member.account_id, from_org_id=member.org_id,
                        from_org_path=member.org_path, to_org_id=target.id, to_org_path=target.path,
                        reason=reason.strip(), status="pending", pending_key=member.id)
    try:
        async with session.begin_nested():
            await repository.add(session, transfer)
    except IntegrityError:
        raise TransferPending from None
    return transfer


async def visible(*, session: AsyncSession, principal: Principal, transfer_id: str) -> Transfer:
    transfer = await repository.get(session, transfer_id)
    if transfer is None:
        raise TransferNotFound
    if transfer.account_id == principal.account_id:
        return transfer
    if is_staff(principal):
        scope = await staff_scope(session, principal)
        if in_scope(transfer.to_org_path, scope) or in_scope(transfer.from_org_path, scope):
            return transfer
    raise TransferNotFound


async def _pending_in_scope(session: AsyncSession, principal: Principal, transfer_id: str, action: str) -> Transfer:
    scope = await staff_scope(session, principal)
    transfer = await repository.get(session, transfer_id, for_update=True)
    if transfer is None or not in_scope(transfer.to_org_path, scope):
        if transfer is not None:
            await audit.record_denied(session, principal, action, "transfer", transfer_id)
        raise TransferNotFound
    if transfer.status != "pending":
        raise TransferNotPending
    return transfer


async def approve(*, session: AsyncSession, principal: Principal, transfer_id: str) -> Transfer:
    transfer = await _pending_in_scope(session, principal, transfer_id, "transfer.approve")
    member = await members.get(session, transfer.member_id, for_update=True)
    if member is None or member.status == "closed":
        raise NotAMember
    if member.status != "active":
        raise MemberNotActive("会员资格已暂停，暂不能转移")
    member.org_id, member.org_path = transfer.to_org_id, transfer.to_org_path
    transfer.status, transfer.pending_key = "completed", None
    transfer.decided_by, transfer.decided_at = principal.account_id, utcnow()
    await session.flush()
    await audit.record(session, principal, "transfer.approve", "member", member.id,
                       detail={"transfer_id": transfer.id, "from_org_id": transfer.from_org_id,
                               "to_org_id": transfer.to_org_id})
    target = await orgs.get(session, transfer.to_org_id)
    await notices.transfer_completed(session, transfer, target.name if target else "新的工会")
    return transfer


async def reject(*, session: AsyncSession, principal: Principal, transfer_id: str, reason: str) -> Transfer:
    transfer = await _pending_in_scope(session, principal, transfer_id, "transfer.reject")
    transfer.status, transfer.pending_key, transfer.decision_reason = "rejected", None, reason.strip()
    transfer.decided_by, transfer.decided_at = principal.account_id, utcnow()
    await session.flush()
    await audit.record(session, principal, "transfer.reject", "member", transfer.member_id,
                       detail={"transfer_id": transfer.id, "to_org_id": transfer.to_org_id})
    return transfer


async def listing(*, session: AsyncSession, principal: Principal, status: str | None, before: str | None,
                  limit: int) -> list[Transfer]:
    if is_staff(principal):
        scope = await staff_scope(session, principal)
        return await repository.listing(session, account_id=None, scope=scope, status=status, before=before,
                                        limit=limit)
    return await repository.listing(session, account_id=principal.account_id, scope=None, status=status,
                                    before=before, limit=limit)
