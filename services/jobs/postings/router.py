from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Path, Query

from services.common.auth import PrincipalDep, require_roles
from services.common.db import SessionDep, utcnow
from services.common.pagination import Cursor
from services.jobs.access import viewer
from services.jobs.deps import KvDep, OrgsDep, PiiDep, SettingsDep
from services.jobs.postings import repository, service
from services.jobs.postings.checks import normalize_city
from services.jobs.postings.schemas import JobClose, JobCreate, JobList, JobRead, JobReview, JobUpdate
from services.jobs.search import segmenter

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])

JobId = Annotated[str, Path(min_length=1, max_length=64)]
Limit = Annotated[int, Query(ge=1, le=100)]


@router.post("", status_code=201, response_model=JobRead,
             dependencies=[require_roles("employer", "staff", "admin")])
async def post_job(body: JobCreate, principal: PrincipalDep, session: SessionDep, orgs: OrgsDep, pii: PiiDep,
                   kv: KvDep, settings: SettingsDep) -> JobRead:
    """Post a job into the poster's org; it waits for review by staff of that org's subtree."""
    v = await viewer(principal, orgs)
    job = await service.create_job(session=session, data=body, viewer=v, orgs=orgs, pii=pii, kv=kv, settings=settings)
    return service.to_read(job, now=utcnow(), viewer=v, pii=pii)


@router.get("", response_model=JobList)
async def search_jobs(principal: PrincipalDep, session: SessionDep,
                      q: Annotated[str | None, Query(max_length=100)] = None,
                      city: Annotated[str | None, Query(max_length=32)] = None,
                      category: Annotated[str | None, Query(max_length=32)] = None,
                      salary_min: Annotated[int | None, Query(ge=0, le=1_000_000)] = None,
                      limit: Limit = 20, cursor: Cursor = None) -> JobList:
    """Open jobs (published, not expired, not closed), newest first. `q` is plain text: its
    words (jieba) must all occur in the title or description; `salary_min` keeps jobs whose
    minimum salary is at least that much."""
    after = service.decode_time_cursor(cursor)
    tokens = None
    if q is not None and q.strip():
        if not segmenter.ready:  # first search since start: load jieba off the event loop
            await asyncio.to_thread(segmenter.initialize)
        tokens = segmenter.query_tokens(q)
        if not tokens:  # only punctuation or one-character pieces: no job contains "nothing"
            return JobList(items=[], next_cursor=None)
    city_key = normalize_city(city) if city and city.strip() else None
    category_key = " ".join(category.split()) if category and category.strip() else None
    if any("\x00" in v for v in (city_key or "", category_key or "")):
        return JobList(items=[], next_cursor=None)  # no job has such a city (and PostgreSQL refuses NUL)
    now = utcnow()
    rows = await repository.search(session, now=now, tokens=tokens, city=city_key, category=category_key,
                                   salary_min=salary_min, after=after, limit=limit + 1)
    items = [service.to_read(j, now=now, viewer=None, pii=None) for j in rows[:limit]]  # type: ignore[arg-type]
    return JobList(items=items, next_cursor=service.next_cursor(rows, limit, "published_at"))


@router.get("/mine", response_model=JobList, dependencies=[require_roles("employer", "staff", "admin")])
async def my_jobs(principal: PrincipalDep, session: SessionDep, orgs: OrgsDep, pii: PiiDep, limit: Limit = 20,
                  cursor: Cursor = None) -> JobList:
    """Jobs the caller posted, in every status, newest first."""
    v = await viewer(principal, orgs)
    rows = await repository.by_poster(session, principal.account_id, after=service.decode_time_cursor(cursor),
                                      limit=limit + 1)
    now = utcnow()
    return JobList(items=[service.to_read(j, now=now, viewer=v, pii=pii) for j in rows[:limit]],
                   next_cursor=service.next_cursor(rows, limit, "created_at"))


@router.get("/pending", response_model=JobList, dependencies=[require_roles("staff", "admin")])
async def review_queue(principal: PrincipalDep, session: SessionDep, orgs: OrgsDep, pii: PiiDep,
                       limit: Limit = 20, cursor: Cursor = None) -> JobList:
    """Jobs waiting for review in the caller's org subtree (admin: everywhere), newest first."""
    v = await viewer(principal, orgs)
    if not v.is_admin and v.staff_path is None:
        return JobList(items=[], next_cursor=None)
    rows = await repository.pending_in_subtree(session, None if v.is_admin else v.staff_path,
                                               after=service.decode_time_cursor(cursor), limit=limit + 1)
    now = utcnow()
    return JobList(items=[service.to_read(j, now=now, viewer=v, pii=pii) for j in rows[:limit]],
                   next_cursor=service.next_cursor(rows, limit, "created_at"))


@router.get("/{job_id}", response_model=JobRead)
async def get_job(job_id: JobId, principal: PrincipalDep, session: SessionDep, orgs: OrgsDep,
                  pii: PiiDep) -> JobRead:
    """One job: open jobs for anyone; otherwise only for its poster and staff in scope."""
    v = await viewer(principal, orgs)
    now = utcnow()
    job = await service.visible_job(session, job_id, v, now)
    return service.to_read(job, now=now, viewer=v, pii=pii)


@router.patch("/{job_id}", response_model=JobRead)
async def edit_job(job_id: JobId, body: JobUpdate, principal: PrincipalDep, session: SessionDep, orgs: OrgsDep,
                   pii: PiiDep, kv: KvDep, settings: SettingsDep) -> JobRead:
    """Edit by the poster; the job goes (back) to review before the public sees the change."""
    v = await viewer(principal, orgs)
    job = await service.update_job(session=session, job_id=job_id, data=body, viewer=v, pii=pii, kv=kv,
                                   settings=settings)
    return service.to_read(job, now=utcnow(), viewer=v, pii=pii)


@router.post("/{job_id}/review", response_model=JobRead, dependencies=[require_roles("staff", "admin")])
async def review_job(job_id: JobId, body: JobReview, principal: PrincipalDep, session: SessionDep,
                     orgs: OrgsDep, pii: PiiDep) -> JobRead:
    """Approve (publish) or reject with a reason; staff of the job's org subtree only."""
    v = await viewer(principal, orgs)
    job = await service.review_job(session=session, job_id=job_id, data=body, viewer=v)
    return service.to_read(job, now=utcnow(), viewer=v, pii=pii)


@router.post("/{job_id}/close", response_model=JobRead)
async def close_job(job_id: JobId, body: JobClose, principal: PrincipalDep, session: SessionDep, orgs: OrgsDep,
                    pii: PiiDep) -> JobRead:
    """Close as filled or withdrawn (poster or staff in scope); it leaves search at once."""
    v = await viewer(principal, orgs)
    job = await service.close_job(session=session, job_id=job_id, data=body, viewer=v)
    return service.to_read(job, now=utcnow(), viewer=v, pii=pii)
