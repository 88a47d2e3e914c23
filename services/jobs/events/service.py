"""Events from other services. account.closed (PIPL art. 47): the person's applications leave
every poster's view (deleted), and jobs they posted are withdrawn with the contact number erased.
Idempotent: a redelivered event is acknowledged and changes nothing more."""

from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.db import utcnow
from services.common.errors import Unprocessable
from services.jobs.applications import repository as applications
from services.jobs.events import repository
from services.jobs.events.schemas import EventIn
from services.jobs.postings import repository as jobs

logger = logging.getLogger("smartunion.jobs.events")

HANDLED = ("account.closed",)


async def handle(*, session: AsyncSession, event: EventIn) -> str:
    if event.topic not in HANDLED:
        return "ignored"
    if await repository.seen(session, event.id):
        return "ok"
    account_id = event.payload.get("account_id")
    if not isinstance(account_id, str) or not account_id or len(account_id) > 64:
        raise Unprocessable("account_id missing", code="invalid_event")
    removed = await applications.delete_of_applicant(session, account_id)
    await jobs.close_all_of_poster(session, account_id, utcnow())
    try:
        async with session.begin_nested():
            await repository.record(session, event.id, event.topic)
    except IntegrityError:
        pass  # the same event delivered concurrently; the work above is idempotent
    logger.info("account closed", extra={"fields": {"account_id": account_id, "applications_removed": removed}})
    return "ok"
