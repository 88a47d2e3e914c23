"""Every query on jobs. Visibility of the public list is part of the query itself: status
published and expires_at > now, so an expired or closed job can never leak through a missed
filter or a cron job that did not run."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, literal_column, or_, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.jobs.postings.models import CLOSED, PENDING, PUBLISHED, Job
from services.jobs.search import fts5_match

OPEN_STATUSES = (PENDING, PUBLISHED)


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


_ID = re.compile(r"^[0-9A-Za-z]{1,64}$")


def plausible_id(value: str) -> bool:
    """Ids are hex strings: anything else cannot exist, and is never sent to the database."""
    return bool(_ID.match(value))


async def get(session: AsyncSession, job_id: str, *, for_update: bool = False) -> Job | None:
    """`for_update` before a status change: on PostgreSQL two concurrent reviews (or closes) of
    one job would otherwise both see it pending (open) and both apply; SQLite serialises writers."""
    if not plausible_id(job_id):
        return None
    query = select(Job).where(Job.id == job_id)
    return await session.scalar(query.with_for_update() if for_update else query)


async def add(session: AsyncSession, job: Job) -> Job:
    session.add(job)
    await session.flush()
    return job


async def lock_poster(session: AsyncSession, poster_id: str) -> None:
    """Serialise one poster's writes so the duplicate check cannot race. SQLite writers are
    already serialised (BEGIN IMMEDIATE); PostgreSQL takes a transaction-scoped advisory lock."""
    if _dialect(session) == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(func.hashtext("jobs-poster:" + poster_id))))


async def has_open_duplicate(session: AsyncSession, *, poster_id: str, title: str, city: str, now: datetime,
                             exclude_id: str | None = None) -> bool:
    stmt = select(Job.id).where(Job.poster_id == poster_id, Job.title == title, Job.city == city,
                                Job.status.in_(OPEN_STATUSES), Job.expires_at > now)
    if exclude_id is not None:
        stmt = stmt.where(Job.id != exclude_id)
    return await session.scalar(stmt.limit(1)) is not None


def _text_match(session: AsyncSession, tokens: list[str], city: str | None) -> object:
    if _dialect(session) == "sqlite":
        match = fts5_match(tokens, city)
        rowids: Select[Any] = select(literal_column("rowid")).select_from(text("jobs_fts")).where(
            text("jobs_fts MATCH :fts_match").bindparams(fts_match=match))
        return Job.seq.in_(rowids.scalar_subquery())
    query = func.plainto_tsquery(literal_column("'simple'::regconfig"), " ".join(tokens))
    return literal_column("jobs.search_vector").op("@@")(query)


async def search(session: AsyncSession, *, now: datetime, tokens: list[str] | None, city: str | None,
                 category: str | None, salary_min: int | None, after: tuple[datetime, str] | None,
                 limit: int) -> list[Job]:
    """Open jobs, newest published first. `tokens` None = no text filter; [] never happens."""
    stmt = select(Job).where(Job.status == PUBLISHED, Job.expires_at > now)
    if tokens:
        stmt = stmt.where(_text_match(session, tokens, city))  # type: ignore[arg-type]
    if city is not None:
        stmt = stmt.where(Job.city == city)
    if category is not None:
        stmt = stmt.where(Job.category == category)
    if salary_min is not None:
        stmt = stmt.where(Job.salary_min >= salary_min)
    return await _page(session, stmt, Job.published_at, after, limit)


async def _page(session: AsyncSession, stmt: Select[Any], key: object,
                after: tuple[datetime, str] | None, limit: int) -> list[Job]:
    if after is not None:
        stmt = stmt.where(tuple_(key, Job.id) < tuple_(after[0], after[1]))  # type: ignore[arg-type]
    stmt = stmt.order_by(key.desc(), Job.id.desc()).limit(limit)  # type: ignore[attr-defined]
    return list(await session.scalars(stmt))


async def by_poster(session: AsyncSession, poster_id: str, *, after: tuple[datetime, str] | None,
                    limit: int) -> list[Job]:
    return await _page(session, select(Job).where(Job.poster_id == poster_id), Job.created_at, after, limit)


async def pending_in_subtree(session: AsyncSession, root_path: str | None, *, after: tuple[datetime, str] | None,
                             limit: int) -> list[Job]:
    """The review queue: pending jobs whose org lies in the subtree (None = everywhere, admin)."""
    stmt = select(Job).where(Job.status == PENDING)
    if root_path is not None:
        # A prefix as a range, so both databases use the (status, org_path) index without
        # depending on LIKE collation rules. Paths end with "/"; "0" is the next character.
        stmt = stmt.where(Job.org_path >= root_path, Job.org_path < root_path[:-1] + chr(ord(root_path[-1]) + 1))
    return await _page(session, stmt, Job.created_at, after, limit)


async def close_all_of_poster(session: AsyncSession, poster_id: str, now: datetime) -> None:
    """Account closed: withdraw its open jobs and erase the contact number from all of them."""
    await session.execute(update(Job).where(Job.poster_id == poster_id, Job.status != CLOSED)
                          .values(status=CLOSED, close_reason="withdrawn", closed_at=now, updated_at=now))
    await session.execute(update(Job).where(Job.poster_id == poster_id,
                                            or_(Job.contact_phone_enc.is_not(None),
                                                Job.contact_phone_masked.is_not(None)))
                          .values(contact_phone_enc=None, contact_phone_masked=None))
