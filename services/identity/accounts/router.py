from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from services.common.auth import Principal, PrincipalDep, require_roles
from services.common.db import ScrubAfterResponse, SessionDep
from services.common.errors import NotFound, Unauthenticated
from services.common.http import OrgDirectory
from services.common.internal_auth import require_service
from services.identity.accounts import repository, service
from services.identity.accounts.models import Account
from services.identity.accounts.schemas import (
    AccountCreate,
    AccountRead,
    InternalAccountRead,
    MeRead,
    RevocationItem,
    RevocationList,
)

router = APIRouter(tags=["accounts"])
internal = APIRouter(prefix="/internal", include_in_schema=False, dependencies=[require_service()])


async def _active_account(session: SessionDep, principal: Principal, *, for_update: bool = False) -> Account:
    account = await repository.get_active(session, principal.account_id, for_update=for_update)
    if account is None:
        raise Unauthenticated("账号不可用")
    return account


@router.get("/api/v1/me", response_model=MeRead)
async def me(principal: PrincipalDep, session: SessionDep) -> MeRead:
    """The caller's own account, personal data masked."""
    account = await _active_account(session, principal)
    return MeRead(id=account.id, roles=list(account.roles or []), display_name=account.display_name,
                  phone_masked=account.phone_masked, org_id=account.org_id)


@router.delete("/api/v1/me", status_code=202, response_class=Response, dependencies=[ScrubAfterResponse])
async def close_me(principal: PrincipalDep, session: SessionDep) -> Response:
    """Close the account now (PIPL art. 47): tokens die, every service erases this person's data."""
    account = await _active_account(session, principal, for_update=True)
    await service.close_account(session=session, account=account)
    return Response(status_code=202)


@router.post("/api/v1/admin/accounts", status_code=201, response_model=AccountRead,
             dependencies=[require_roles("admin")])
async def create_account(body: AccountCreate, request: Request, session: SessionDep) -> AccountRead:
    """Create a staff, lawyer, employer or admin account (admin only)."""
    orgs: OrgDirectory | None = getattr(request.app.state, "orgs", None)
    account = await service.create_account(session=session, data=body, orgs=orgs)
    return AccountRead(id=account.id, username=account.username or "", roles=list(account.roles),
                       org_id=account.org_id)


@internal.get("/accounts/{account_id}", response_model=InternalAccountRead)
async def internal_account(account_id: str, session: SessionDep) -> InternalAccountRead:
    account = await repository.get(session, account_id)
    if account is None:
        raise NotFound("账号不存在")
    return InternalAccountRead(id=account.id, roles=list(account.roles or []), org_id=account.org_id,
                               status=account.status, display_name=account.display_name,
                               phone_masked=account.phone_masked, created_at=account.created_at)


@internal.get("/revocations", response_model=RevocationList)
async def revocations(session: SessionDep, after: Annotated[int, Query(ge=0)] = 0) -> RevocationList:
    rows = await repository.revocations_after(session, after)
    cursor = rows[-1].seq if rows else after
    return RevocationList(items=[RevocationItem(account_id=r.account_id, revoked_at=r.revoked_at) for r in rows],
                          cursor=cursor)
