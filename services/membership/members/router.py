from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.common.auth import PrincipalDep
from services.common.db import SessionDep
from services.common.internal_auth import require_service
from services.common.pagination import Cursor, Limit, decode_cursor, encode_cursor
from services.membership.members import repository, service
from services.membership.members.errors import NotAMember
from services.membership.members.models import Card, Member
from services.membership.members.schemas import (
    CardRead,
    InternalMember,
    MemberList,
    MemberMe,
    MemberRead,
    MemberStatus,
    StatusChange,
)
from services.membership.orgs.models import Org
from services.membership.qr.codec import mask_card_no
from services.membership.scope import staff_scope

router = APIRouter(prefix="/api/v1/membership", tags=["membership"])
internal = APIRouter(prefix="/internal/members", include_in_schema=False, dependencies=[require_service()])


def _staff_read(member: Member, card: Card | None, org: Org) -> MemberRead:
    return MemberRead(member_id=member.id, status=member.status, org_id=member.org_id, org_name=org.name,
                      real_name_masked=member.real_name_masked, id_number_masked=member.id_number_masked,
                      card_no_masked=mask_card_no(card.card_no if card else None), joined_at=member.joined_at)


@router.get("/me", response_model=MemberMe)
async def me(principal: PrincipalDep, session: SessionDep) -> MemberMe:
    """The caller's membership and card; 404 not_a_member."""
    found = await repository.with_card_and_org(session, account_id=principal.account_id)
    if found is None or found[0].status == "closed":
        raise NotAMember
    member, card, org = found
    return MemberMe(member_id=member.id, status=member.status, org_id=member.org_id, org_name=org.name,
                    real_name_masked=member.real_name_masked, id_number_masked=member.id_number_masked,
                    joined_at=member.joined_at,
                    card=CardRead(card_no=card.card_no, status=card.status, issued_at=card.issued_at) if card else None)


@router.get("/members", response_model=MemberList)
async def list_members(principal: PrincipalDep, session: SessionDep, limit: Limit = 20, cursor: Cursor = None,
                       status: Annotated[str | None, Query(pattern="^(active|suspended)$")] = None) -> MemberList:
    """Members in the caller's subtree (staff, admin), newest first."""
    scope = await staff_scope(session, principal)
    key = decode_cursor(cursor)
    rows = await repository.in_subtree(session, scope, status=status, before=str(key[0]) if key else None,
                                       limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return MemberList(items=[_staff_read(m, c, o) for m, c, o in rows],
                      next_cursor=encode_cursor([rows[-1][0].id]) if more else None)


@router.get("/members/{member_id}", response_model=MemberRead)
async def get_member(member_id: str, principal: PrincipalDep, session: SessionDep) -> MemberRead:
    """One member (staff in scope)."""
    member = await service.member_in_scope(session=session, principal=principal, member_id=member_id,
                                           action="member.read", audit_denied=False)
    found = await repository.with_card_and_org(session, member_id=member.id)
    assert found is not None
    return _staff_read(*found)


@router.post("/members/{member_id}/suspend", response_model=MemberStatus)
async def suspend(member_id: str, body: StatusChange, principal: PrincipalDep, session: SessionDep) -> MemberStatus:
    """Suspend a member (staff in scope): the card stops working at merchants at once."""
    member = await service.set_status(session=session, principal=principal, member_id=member_id,
                                      status="suspended", reason=body.reason)
    return MemberStatus(member_id=member.id, status=member.status)


@router.post("/members/{member_id}/reinstate", response_model=MemberStatus)
async def reinstate(member_id: str, principal: PrincipalDep, session: SessionDep) -> MemberStatus:
    """Reinstate a suspended member (staff in scope)."""
    member = await service.set_status(session=session, principal=principal, member_id=member_id,
                                      status="active", reason=None)
    return MemberStatus(member_id=member.id, status=member.status)


@internal.get("/by-account/{account_id}", response_model=InternalMember)
async def by_account(account_id: str, session: SessionDep) -> InternalMember:
    found = await repository.with_card_and_org(session, account_id=account_id)
    if found is None or found[0].status == "closed":
        raise NotAMember
    member, card, org = found
    return InternalMember(member_id=member.id, account_id=member.account_id, status=member.status,
                          org_id=member.org_id, org_name=org.name, org_path=member.org_path,
                          card_no=card.card_no if card else None)
