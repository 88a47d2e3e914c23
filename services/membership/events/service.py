"""Events from other services. `account.closed` (PIPL art. 47): erase this person's real name,
ID number and employer everywhere here; the member row, its card number and the audit trail stay
with ids only. Handling is idempotent: a redelivered event is acknowledged without work."""

from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.membership.audit import service as audit
from services.membership.events import repository
from services.membership.events.schemas import EventIn

logger = logging.getLogger("smartunion.membership.events")


async def handle(*, session: AsyncSession, event: EventIn, caller: str) -> str:
    if event.topic != "account.closed":
        return "ignored"
    account_id = event.payload.get("account_id")
    if not isinstance(account_id, str) or not account_id:
        return "ignored"
    if await repository.seen(session, event.id):
        return "ok"
    member_id = await repository.erase_account(session, account_id)
    if member_id is not None:
        await audit.record(session, caller, "member.erase", "member", member_id,
                           detail={"event_id": event.id})
    try:
        async with session.begin_nested():
            await repository.mark_seen(session, event.id, event.topic)
    except IntegrityError:
        pass  # delivered twice at once: the other delivery did the same (idempotent) work
    logger.info("account erased", extra={"fields": {"account_id": account_id, "member_id": member_id}})
    return "ok"
