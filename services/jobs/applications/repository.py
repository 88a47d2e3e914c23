from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.jobs.applications.models import Application
from services.jobs.postings.models import Job


async def add(session: AsyncSession, application: Application) -> Application:
    session.add(application)
    await session.flush()
    return application


def _after(stmt, after: tuple[datetime, str] | None):  # type: ignore[no-untyped-def]
    if after is not None:
        stmt = stmt.where(tuple_(Application.created_at, Application.id) < tuple_(after[0], after[1]))
    return stmt.order_by(Application.created_at.desc(), Application.id.desc())


async def for_job(session: AsyncSession, job_id: str, *, after: tuple[datetime, str] | None,
                  limit: int) -> list[Application]:
    stmt = _after(select(Application).where(Application.job_id == job_id), after).limit(limit)
    return list(await session.scalars(stmt))


async def mark_seen(session: AsyncSession, ids: list[str], now: datetime) -> list[tuple[str, str]]:
    """Mark unseen applications seen; returns (application id, applicant id) of the rows this
    statement changed, so a concurrent listing never announces the same application twice."""
    if not ids:
        return []
    result = await session.execute(update(Application).where(Application.id.in_(ids), Application.seen_at.is_(None))
                                   .values(seen_at=now).returning(Application.id, Application.applicant_id))
    return [(row[0], row[1]) for row in result.all()]


async def of_applicant(session: AsyncSession, applicant_id: str, *, after: tuple[datetime, str] | None,
                       limit: int) -> list[tuple[Application, Job]]:
    stmt = _after(select(Application, Job).join(Job, Job.id == Application.job_id)
                  .where(Application.applicant_id == applicant_id), after).limit(limit)
    return [(a, j) for a, j in (await session.execute(stmt)).all()]


async def delete_of_applicant(session: AsyncSession, applicant_id: str) -> int:
    result = await session.execute(delete(Application).where(Application.applicant_id == applicant_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
