from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from services.common.auth import PrincipalDep
from services.common.db import SessionDep, sqlite_write_intent
from services.common.pagination import Cursor
from services.jobs.access import viewer
from services.jobs.applications import repository, service
from services.jobs.applications.schemas import ApplicationCreate, ApplicationList, ApplicationRead, MyApplicationList
from services.jobs.deps import KvDep, OrgsDep, PiiDep, SettingsDep
from services.jobs.postings.service import decode_time_cursor

router = APIRouter(prefix="/api/v1/jobs", tags=["job applications"])

JobId = Annotated[str, Path(min_length=1, max_length=64)]
Limit = Annotated[int, Query(ge=1, le=100)]


def _cursor(items: list, limit: int) -> str | None:  # type: ignore[type-arg]
    from services.common.pagination import encode_cursor

    if len(items) <= limit:
        return None
    last = items[limit - 1]
    last = last[0] if isinstance(last, tuple) else last
    return encode_cursor([last.created_at.isoformat(), last.id])


@router.get("/applications/mine", response_model=MyApplicationList)
async def my_applications(principal: PrincipalDep, session: SessionDep, pii: PiiDep, limit: Limit = 20,
                          cursor: Cursor = None) -> MyApplicationList:
    """The caller's own applications with each job's current status, newest first."""
    rows = await repository.of_applicant(session, principal.account_id, after=decode_time_cursor(cursor),
                                         limit=limit + 1)
    return MyApplicationList(items=[service.my_read(a, j, pii) for a, j in rows[:limit]],
                             next_cursor=_cursor(rows, limit))


@router.post("/{job_id}/applications", status_code=201, response_model=ApplicationRead)
async def apply(job_id: JobId, body: ApplicationCreate, principal: PrincipalDep, session: SessionDep,
                orgs: OrgsDep, kv: KvDep, settings: SettingsDep) -> ApplicationRead:
    """Apply to an open job (needs a bound phone; once per job)."""
    v = await viewer(principal, orgs)
    application = await service.apply(session=session, job_id=job_id, data=body, viewer=v, kv=kv, settings=settings)
    return service.to_read(application)


@router.get("/{job_id}/applications", response_model=ApplicationList)
async def job_applications(job_id: JobId, principal: PrincipalDep, session: SessionDep, orgs: OrgsDep,
                           limit: Limit = 20, cursor: Cursor = None) -> ApplicationList:
    """Applicants of a job, masked, newest first (poster, staff in scope). Listing them by the
    poster marks them seen."""
    # This read may record seen_at: take SQLite's write lock up front rather than upgrading.
    sqlite_write_intent.set(True)
    v = await viewer(principal, orgs)
    rows = await service.list_for_job(session=session, job_id=job_id, viewer=v, after=decode_time_cursor(cursor),
                                      limit=limit)
    return ApplicationList(items=[service.to_read(a) for a in rows[:limit]], next_cursor=_cursor(rows, limit))
