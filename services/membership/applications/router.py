from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.common.auth import PrincipalDep
from services.common.db import SessionDep
from services.common.pagination import Cursor, Limit, decode_cursor, encode_cursor
from services.membership.applications import service
from services.membership.applications.models import Application
from services.membership.applications.schemas import ApplicationCreate, ApplicationList, ApplicationRead, Rejection
from services.membership.deps import PiiDep

router = APIRouter(prefix="/api/v1/membership/applications", tags=["membership"])

StatusFilter = Annotated[str | None, Query(pattern="^(pending|approved|rejected|withdrawn)$")]


def _read(a: Application) -> ApplicationRead:
    return ApplicationRead(id=a.id, status=a.status, real_name_masked=a.real_name_masked,  # type: ignore[arg-type]
                           id_number_masked=a.id_number_masked, org_id=a.org_id, employer_name=a.employer_name,
                           created_at=a.created_at, member_id=a.member_id, reason=a.reason, decided_at=a.decided_at)


@router.post("", status_code=201, response_model=ApplicationRead)
async def submit(body: ApplicationCreate, principal: PrincipalDep, session: SessionDep, pii: PiiDep) -> ApplicationRead:
    """Apply to join a union (the account needs a bound phone)."""
    return _read(await service.submit(session=session, principal=principal, data=body, pii=pii))


@router.get("", response_model=ApplicationList)
async def listing(principal: PrincipalDep, session: SessionDep, limit: Limit = 20, cursor: Cursor = None,
                  status: StatusFilter = None) -> ApplicationList:
    """A user's own applications; for staff, those to orgs in their subtree. Newest first."""
    key = decode_cursor(cursor)
    rows = await service.listing(session=session, principal=principal, status=status,
                                 before=str(key[0]) if key else None, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return ApplicationList(items=[_read(a) for a in rows], next_cursor=encode_cursor([rows[-1].id]) if more else None)


@router.get("/{application_id}", response_model=ApplicationRead)
async def get_application(application_id: str, principal: PrincipalDep, session: SessionDep) -> ApplicationRead:
    """One application (its owner, or staff in scope)."""
    return _read(await service.visible(session=session, principal=principal, application_id=application_id))


@router.post("/{application_id}/approve", response_model=ApplicationRead)
async def approve(application_id: str, principal: PrincipalDep, session: SessionDep) -> ApplicationRead:
    """Approve (staff in scope): creates the member and the card."""
    return _read(await service.approve(session=session, principal=principal, application_id=application_id))


@router.post("/{application_id}/reject", response_model=ApplicationRead)
async def reject(application_id: str, body: Rejection, principal: PrincipalDep, session: SessionDep) -> ApplicationRead:
    """Reject with a reason (staff in scope); the user may apply again."""
    return _read(await service.reject(session=session, principal=principal, application_id=application_id,
                                      reason=body.reason))
