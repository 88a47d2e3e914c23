"""Job postings: create, edit (back to review), review within the org subtree, close, search."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.crypto import PiiCipher
from services.common.db import utcnow
from services.common.errors import RateLimited, Unprocessable
from services.common.http import OrgDirectory, in_subtree
from services.common.kv import KeyValueStore
from services.common.masking import mask_phone
from services.common.pagination import decode_cursor, encode_cursor
from services.jobs.access import Viewer, is_open, public_status
from services.jobs.config import JobsSettings
from services.jobs.postings import repository
from services.jobs.postings.checks import normalize_credit_code, normalize_mobile
from services.jobs.postings.errors import (
    DuplicatePosting,
    InvalidOrg,
    JobNotFound,
    JobNotOpen,
    JobNotPending,
    NotReviewer,
    OrgRequired,
)
from services.jobs.postings.models import CLOSED, PENDING, PUBLISHED, REJECTED, Job
from services.jobs.postings.schemas import JobClose, JobCreate, JobRead, JobReview, JobUpdate
from services.jobs.search import segmenter

logger = logging.getLogger("smartunion.jobs.postings")

PHONE_CONTEXT = "job-contact-phone"


# -- reading ------------------------------------------------------------------------------------
def to_read(job: Job, *, now: datetime, viewer: Viewer | None, pii: PiiCipher) -> JobRead:
    manages = viewer is not None and viewer.manages(job)
    phone = None
    if manages and job.contact_phone_enc:
        phone = pii.decrypt(job.contact_phone_enc, context=PHONE_CONTEXT)
    return JobRead(
        id=job.id, status=public_status(job, now), org_id=job.org_id, title=job.title,  # type: ignore[arg-type]
        employer_name=job.employer_name, employer_verified=job.employer_credit_code is not None,
        city=job.city, category=job.category, salary_min=job.salary_min, salary_max=job.salary_max,
        description=job.description, contact_phone_masked=job.contact_phone_masked, contact_phone=phone,
        expires_at=job.expires_at, created_at=job.created_at, updated_at=job.updated_at,
        published_at=job.published_at if job.status in (PUBLISHED, CLOSED) else None,
        close_reason=job.close_reason, review_reason=job.review_reason if manages else None, can_manage=manages,
    )


async def visible_job(session: AsyncSession, job_id: str, viewer: Viewer, now: datetime, *,
                      for_update: bool = False) -> Job:
    """The job if this viewer may see it; 404 otherwise (never reveal an unpublished job)."""
    job = await repository.get(session, job_id, for_update=for_update)
    if job is None or not (is_open(job, now) or viewer.manages(job)):
        raise JobNotFound
    return job


def decode_time_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    key = decode_cursor(cursor)
    if key is None:
        return None
    try:
        moment, last_id = key
        at = datetime.fromisoformat(moment)
    except (ValueError, TypeError):
        raise Unprocessable("游标无效", code="invalid_cursor") from None
    if at.tzinfo is None or not isinstance(last_id, str) or not repository.plausible_id(last_id):
        raise Unprocessable("游标无效", code="invalid_cursor")
    return at, last_id


def next_cursor(items: list[Job], limit: int, key: str) -> str | None:
    if len(items) <= limit:
        return None
    last = items[limit - 1]
    return encode_cursor([getattr(last, key).isoformat(), last.id])


# -- checks -------------------------------------------------------------------------------------
def _expiry_error(expires_at: datetime, now: datetime, settings: JobsSettings) -> None:
    msg = None
    if expires_at <= now:
        msg = "截止时间必须晚于现在"
    elif expires_at > now + timedelta(days=settings.max_expiry_days):
        msg = f"截止时间不能超过 {settings.max_expiry_days} 天后"
    if msg:
        raise Unprocessable("请求参数不合法", extra={"errors": [{"loc": ["body", "expires_at"], "msg": msg}]})


async def _rate_limit(kv: KeyValueStore, settings: JobsSettings, account_id: str) -> None:
    limit = max(1, int(settings.post_rate_limit * settings.rate_limit_scale))
    allowed, retry = await kv.hit(f"jobs-post:{account_id}", limit, settings.post_rate_window)
    if not allowed:
        raise RateLimited(retry, "发布职位过于频繁，请稍后再试")


async def _resolve_org(requested: str | None, viewer: Viewer, orgs: OrgDirectory) -> dict[str, Any]:
    own = viewer.principal.org_id
    org_id = requested or own
    if not org_id:
        raise OrgRequired
    org = await orgs.get(org_id)
    if org is None:
        raise InvalidOrg
    if org_id != own and not viewer.is_admin and not in_subtree(org["path"], viewer.staff_path):
        raise InvalidOrg
    return org


def _set_phone(job: Job, raw: str, pii: PiiCipher) -> None:
    phone = normalize_mobile(raw)
    job.contact_phone_enc = pii.encrypt(phone, context=PHONE_CONTEXT)
    job.contact_phone_masked = mask_phone(phone)


async def _index(job: Job) -> None:
    # jieba is pure Python (~0.2 ms for a typical posting): off the event loop all the same.
    job.search_text = await asyncio.to_thread(segmenter.index_text, job.title, job.description)


# -- writing ------------------------------------------------------------------------------------
async def create_job(*, session: AsyncSession, data: JobCreate, viewer: Viewer, orgs: OrgDirectory,
                     pii: PiiCipher, kv: KeyValueStore, settings: JobsSettings) -> Job:
    now = utcnow()
    _expiry_error(data.expires_at, now, settings)
    credit_code = normalize_credit_code(data.employer_credit_code) if data.employer_credit_code else None
    job = Job(title=data.title, employer_name=data.employer_name, employer_credit_code=credit_code,
              city=data.city, category=data.category, salary_min=data.salary_min, salary_max=data.salary_max,
              description=data.description, expires_at=data.expires_at, status=PENDING,
              poster_id=viewer.account_id, created_at=now, updated_at=now)
    _set_phone(job, data.contact_phone, pii)
    org = await _resolve_org(data.org_id, viewer, orgs)
    job.org_id, job.org_path = org["id"], org["path"]
    await _rate_limit(kv, settings, viewer.account_id)
    await repository.lock_poster(session, viewer.account_id)
    if await repository.has_open_duplicate(session, poster_id=job.poster_id, title=job.title, city=job.city,
                                           now=now):
        raise DuplicatePosting
    await _index(job)
    await repository.add(session, job)
    logger.info("job posted", extra={"fields": {"job_id": job.id, "org_id": job.org_id}})
    return job


async def update_job(*, session: AsyncSession, job_id: str, data: JobUpdate, viewer: Viewer, pii: PiiCipher,
                     kv: KeyValueStore, settings: JobsSettings) -> Job:
    now = utcnow()
    job = await visible_job(session, job_id, viewer, now, for_update=True)
    if job.poster_id != viewer.account_id:
        raise NotReviewer("只有发布者可以修改职位")
    if job.status == CLOSED:
        raise JobNotOpen("职位已关闭，不能修改")
    changes = data.model_dump(exclude_unset=True)
    for name in ("title", "employer_name", "city", "category", "salary_min", "salary_max", "description"):
        if changes.get(name) is None:
            changes.pop(name, None)
    if "expires_at" in changes:
        if changes["expires_at"] is None:
            changes.pop("expires_at")
        else:
            _expiry_error(changes["expires_at"], now, settings)
    salary_min = changes.get("salary_min", job.salary_min)
    salary_max = changes.get("salary_max", job.salary_max)
    if salary_min > salary_max:
        raise Unprocessable("请求参数不合法", extra={"errors": [
            {"loc": ["body", "salary_min"], "msg": "salary_min 不能大于 salary_max"}]})
    if "employer_credit_code" in changes:
        raw = changes.pop("employer_credit_code")
        job.employer_credit_code = normalize_credit_code(raw) if raw else None
    if "contact_phone" in changes:
        raw = changes.pop("contact_phone")
        if raw is None:
            raise Unprocessable("请求参数不合法", extra={"errors": [
                {"loc": ["body", "contact_phone"], "msg": "联系电话不能为空"}]})
        _set_phone(job, raw, pii)
    await _rate_limit(kv, settings, viewer.account_id)
    await repository.lock_poster(session, viewer.account_id)
    title, city = changes.get("title", job.title), changes.get("city", job.city)
    if await repository.has_open_duplicate(session, poster_id=job.poster_id, title=title, city=city, now=now,
                                           exclude_id=job.id):
        raise DuplicatePosting
    for name, value in changes.items():
        setattr(job, name, value)
    if "title" in changes or "description" in changes:
        await _index(job)
    # Any edit, even of a published job, goes back to the reviewers before the public sees it.
    job.status = PENDING
    job.review_reason = job.reviewed_by = None
    job.reviewed_at = None
    job.updated_at = now
    await session.flush()
    logger.info("job edited", extra={"fields": {"job_id": job.id}})
    return job


async def review_job(*, session: AsyncSession, job_id: str, data: JobReview, viewer: Viewer) -> Job:
    now = utcnow()
    job = await visible_job(session, job_id, viewer, now, for_update=True)
    if not viewer.in_scope(job):
        raise NotReviewer
    if job.poster_id == viewer.account_id and not viewer.is_admin:
        raise NotReviewer("不能审核自己发布的职位")
    if job.status != PENDING:
        raise JobNotPending
    if data.decision == "approve":
        if job.expires_at <= now:
            raise JobNotOpen("职位已过期，请发布者修改截止时间后再审核")
        job.status, job.published_at = PUBLISHED, now
    else:
        job.status = REJECTED
    job.review_reason, job.reviewed_by, job.reviewed_at, job.updated_at = data.reason, viewer.account_id, now, now
    await session.flush()
    logger.info("job reviewed", extra={"fields": {"job_id": job.id, "decision": data.decision}})
    return job


async def close_job(*, session: AsyncSession, job_id: str, data: JobClose, viewer: Viewer) -> Job:
    now = utcnow()
    job = await visible_job(session, job_id, viewer, now, for_update=True)
    if not viewer.manages(job):
        raise NotReviewer("只有发布者或管辖范围内的工作人员可以关闭职位")
    if job.status == CLOSED:
        raise JobNotOpen("职位已关闭")
    job.status, job.close_reason, job.closed_at, job.updated_at = CLOSED, data.reason, now, now
    await session.flush()
    logger.info("job closed", extra={"fields": {"job_id": job.id, "reason": data.reason}})
    return job
