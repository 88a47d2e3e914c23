"""Notifications for an applicant's inbox (CONTRACT §9), emitted into this service's outbox in the
transaction that records the fact; identity's inbox receives them at least once and keeps each
once. The job title is public; nothing about the poster or other applicants is said."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.outbox import notify
from services.jobs.events.models import OutboxEvent


async def application_seen(session: AsyncSession, *, applicant_id: str, application_id: str, job_id: str,
                           job_title: str) -> None:
    title = job_title if len(job_title) <= 60 else job_title[:59] + "…"
    await notify(session, OutboxEvent, account_id=applicant_id, kind="job_application_seen",
                 title="您的求职申请已被查看", body=f"招聘方已查看您对“{title}”的申请。",
                 link=f"/jobs/{job_id}")
