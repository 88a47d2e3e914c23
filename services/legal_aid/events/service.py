"""Events from other services. `account.closed` (PIPL art. 47): the person's tickets are
anonymised — their case text, employer, rating comment and message bodies are replaced, the
files they uploaded are deleted — while the event trail (ids, statuses, times) stays."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.crypto import PiiCipher
from services.common.logging import log_event
from services.legal_aid.attachments import service as attachments
from services.legal_aid.attachments.storage import AttachmentStore
from services.legal_aid.events.models import ProcessedEvent
from services.legal_aid.messages import repository as messages
from services.legal_aid.tickets import repository as tickets_repo
from services.legal_aid.tickets import service as tickets
from services.legal_aid.tickets.models import TicketEvent

logger = logging.getLogger("smartunion.legal_aid.events")

ANONYMISED_TITLE = "（咨询人已注销）"
SYSTEM_ACTOR = "system"
OPEN = ("submitted", "accepted", "waiting_member")


async def already_processed(session: AsyncSession, event_id: str) -> bool:
    return await session.get(ProcessedEvent, event_id) is not None


async def mark_processed(session: AsyncSession, event_id: str, topic: str, now: datetime) -> None:
    try:
        async with session.begin_nested():
            session.add(ProcessedEvent(id=event_id, topic=topic, processed_at=now))
            await session.flush()
    except IntegrityError:
        pass  # the same event handled concurrently: the work is idempotent anyway


async def account_closed(*, session: AsyncSession, account_id: str, pii: PiiCipher, store: AttachmentStore,
                         now: datetime) -> int:
    rows = await tickets_repo.of_owner(session, account_id)
    for ticket in rows:
        ticket.title_enc = tickets.seal(pii, ticket.id, "title", ANONYMISED_TITLE)
        ticket.description_enc = tickets.seal(pii, ticket.id, "description", "")
        ticket.employer_name_enc = None
        rating = await tickets_repo.rating(session, ticket.id)
        if rating is not None:
            rating.comment_enc = None
        for message in await messages.by_author_on(session, ticket.id, account_id):
            message.body_enc = pii.encrypt("", context=f"legal:{ticket.id}:message:{message.id}")
            message.redacted = True
        await attachments.delete_by_uploader(session=session, store=store, ticket_id=ticket.id,
                                             uploader_id=account_id, now=now)
        if ticket.status in OPEN:
            # Nobody is left to answer: the case ends, visibly in the trail.
            from_status = ticket.status
            ticket.status, ticket.paused_at, ticket.updated_at = "closed", None, now
            await tickets_repo.add_event(session, TicketEvent(ticket_id=ticket.id, actor_id=SYSTEM_ACTOR,
                                                              action="owner_account_closed",
                                                              from_status=from_status, to_status="closed",
                                                              created_at=now))
        ticket.anonymised_at = ticket.anonymised_at or now
    log_event(logger, "tickets anonymised", account_id=account_id, tickets=len(rows))
    return len(rows)
