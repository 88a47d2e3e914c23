"""Applications: one per user per job (a unique constraint decides), only to open jobs, the phone
taken (masked) from the signed access token; posters and staff see masked applicants."""

from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.crypto import PiiCipher
from services.common.db import utcnow
from services.common.errors import RateLimited
from services.common.kv import KeyValueStore
from services.common.masking import mask_name
from services.jobs.access import Viewer, is_open, public_status
from services.jobs.applications import repository
from services.jobs.applications.errors import AlreadyApplied, NotApplicantViewer, OwnJob, PhoneRequired
from services.jobs.applications.models import Application
from services.jobs.applications.schemas import ApplicationCreate, ApplicationRead, MyApplicationRead
from services.jobs.config import JobsSettings
from services.jobs.events import notices
from services.jobs.postings import repository as jobs
from services.jobs.postings.errors import JobNotFound, JobNotOpen
from services.jobs.postings.models import Job
from services.jobs.postings.service import PHONE_CONTEXT, visible_job

logger = logging.getLogger("smartunion.jobs.applications")


async def apply(*, session: AsyncSession, job_id: str, data: ApplicationCreate, viewer: Viewer,
                kv: KeyValueStore, settings: JobsSettings) -> Application:
    principal = viewer.principal
    if not principal.phone_bound or principal.phone_masked is None:
        raise PhoneRequired
    now = utcnow()
    job = await jobs.get(session, job_id)
    if job is None:
        raise JobNotFound
    if not is_open(job, now):
        # A job that was public once may be answered "no longer open"; one that never was
        # (pending, rejected) does not exist for anyone but its managers.
        if job.published_at is not None or viewer.manages(job):
            raise JobNotOpen
        raise JobNotFound
    if job.poster_id == principal.account_id:
        raise OwnJob
    limit = max(1, int(settings.apply_rate_limit * settings.rate_limit_scale))
    allowed, retry = await kv.hit(f"jobs-apply:{principal.account_id}", limit, 3600)
    if not allowed:
        raise RateLimited(retry, "申请过于频繁，请稍后再试")
    application = Application(job_id=job.id, applicant_id=principal.account_id, phone_masked=principal.phone_masked,
                              name_masked=mask_name(data.name) if data.name else None, message=data.message,
                              created_at=now)
    try:
        async with session.begin_nested():
            await repository.add(session, application)
    except IntegrityError:
        raise AlreadyApplied from None
    logger.info("job application", extra={"fields": {"job_id": job.id, "application_id": application.id}})
    return application


def to_read(application: Application) -> ApplicationRead:
    return ApplicationRead(id=application.id, job_id=application.job_id, applicant_name_masked=application.name_masked,
                           applicant_phone_masked=application.phone_masked, message=application.message,
                           created_at=application.created_at, seen_at=application.seen_at)


async def list_for_job(*, session: AsyncSession, job_id: str, viewer: Viewer,
                       after: tuple | None, limit: int) -> list[Application]:  # type: ignore[type-arg]
    now = utcnow()
    job = await visible_job(session, job_id, viewer, now)
    if not viewer.manages(job):
        raise NotApplicantViewer
    rows = await repository.for_job(session, job.id, after=after, limit=limit + 1)
    if job.poster_id == viewer.account_id:
        # The poster has now seen these applicants: each applicant hears it once.
        shown = [a for a in rows[:limit] if a.seen_at is None]
        for application_id, applicant_id in await repository.mark_seen(session, [a.id for a in shown], now):
            await notices.application_seen(session, applicant_id=applicant_id, application_id=application_id,
                                           job_id=job.id, job_title=job.title)
        for a in shown:
            a.seen_at = now
    return rows


def my_read(application: Application, job: Job, pii: PiiCipher) -> MyApplicationRead:
    now = utcnow()
    phone = None
    if job.contact_phone_enc and is_open(job, now):
        # An applicant may call the employer while the job is open.
        phone = pii.decrypt(job.contact_phone_enc, context=PHONE_CONTEXT)
    return MyApplicationRead(id=application.id, job_id=job.id, job_title=job.title,
                             job_status=public_status(job, now), employer_name=job.employer_name,  # type: ignore[arg-type]
                             city=job.city, contact_phone=phone, message=application.message,
                             created_at=application.created_at, seen_at=application.seen_at)
