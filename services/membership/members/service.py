"""Members and their cards: created by an approved application, suspended and reinstated by
staff in scope, erased when the account is closed."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.auth import Principal
from services.membership.audit import service as audit
from services.membership.members import repository
from services.membership.members.errors import InvalidState, MemberNotFound
from services.membership.members.models import Member
from services.membership.scope import in_scope, staff_scope


async def member_in_scope(*, session: AsyncSession, principal: Principal, member_id: str, action: str,
                          audit_denied: bool = True, for_update: bool = False) -> Member:
    """The member when the caller's scope covers it; 404 otherwise (never reveal it exists)."""
    scope = await staff_scope(session, principal)
    member = await repository.get(session, member_id, for_update=for_update)
    if member is None or member.status == "closed" or not in_scope(member.org_path, scope):
        if member is not None and audit_denied:
            await audit.record_denied(session, principal, action, "member", member_id)
        raise MemberNotFound
    return member


async def set_status(*, session: AsyncSession, principal: Principal, member_id: str, status: str,
                     reason: str | None) -> Member:
    action = "member.suspend" if status == "suspended" else "member.reinstate"
    member = await member_in_scope(session=session, principal=principal, member_id=member_id, action=action,
                                   for_update=True)
    if member.status == status:
        raise InvalidState("会员已是该状态" if status == "active" else "会员已被暂停")
    member.status = status
    member.status_reason = reason
    card = await repository.card_of(session, member.id)
    if card is not None:
        card.status = status
    await session.flush()
    await audit.record(session, principal, action, "member", member.id, detail={"org_id": member.org_id})
    return member
