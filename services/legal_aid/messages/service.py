"""Messages on a ticket: public replies and internal notes. The owner never sees internal notes
(list, detail or counts); a public reply by staff or the assignee meets the first-response
deadline; the owner's reply while `waiting_member` returns the ticket to `accepted`."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.crypto import PiiCipher
from services.common.ids import new_id
from services.common.logging import log_event
from services.common.pagination import decode_cursor, encode_cursor
from services.legal_aid.events import notices
from services.legal_aid.messages import repository
from services.legal_aid.messages.errors import InternalNotAllowed
from services.legal_aid.messages.models import Message
from services.legal_aid.messages.schemas import MessageList, MessageRead
from services.legal_aid.tickets import service as tickets
from services.legal_aid.tickets.access import Viewer
from services.legal_aid.tickets.errors import TicketClosed
from services.legal_aid.tickets.models import Ticket

logger = logging.getLogger("smartunion.legal_aid.messages")

ENDED = ("closed", "rejected")


def _context(ticket_id: str, message_id: str) -> str:
    return f"legal:{ticket_id}:message:{message_id}"


def to_read(message: Message, pii: PiiCipher) -> MessageRead:
    return MessageRead(id=message.id, ticket_id=message.ticket_id, author_id=message.author_id,
                       author_role=message.author_role,  # type: ignore[arg-type]
                       internal=message.internal, body=pii.decrypt(message.body_enc,
                                                                   context=_context(message.ticket_id, message.id)),
                       redacted=message.redacted, created_at=message.created_at)


async def add_message(*, session: AsyncSession, ticket: Ticket, viewer: Viewer, pii: PiiCipher, body: str,
                      internal: bool, now: datetime) -> Message:
    message_id = new_id()
    message = Message(id=message_id, ticket_id=ticket.id, author_id=viewer.account_id,
                      author_role=viewer.role_on(ticket), internal=internal, redacted=False,
                      body_enc=pii.encrypt(body, context=_context(ticket.id, message_id)), created_at=now)
    await repository.add(session, message)
    if internal:
        ticket.internal_message_count += 1
    else:
        ticket.public_message_count += 1
        tickets.note_public_reply(ticket, viewer, now)
    ticket.updated_at = now
    log_event(logger, "message posted", ticket_id=ticket.id, message_id=message_id, internal=internal)
    return message


async def post(*, session: AsyncSession, ticket: Ticket, viewer: Viewer, pii: PiiCipher, body: str,
               internal: bool, now: datetime) -> Message:
    if internal and not viewer.sees_internal(ticket):
        raise InternalNotAllowed
    if not internal and ticket.status in ENDED:
        raise TicketClosed
    message = await add_message(session=session, ticket=ticket, viewer=viewer, pii=pii, body=body,
                                internal=internal, now=now)
    if not internal and not viewer.is_owner(ticket):
        await notices.ticket_reply(session, ticket)
    if not internal and viewer.is_owner(ticket) and ticket.status == "waiting_member":
        await tickets.move(session, pii, ticket, to="accepted", actor_id=viewer.account_id,
                           action="member_reply", note=None, now=now)
    return message


async def list_messages(*, session: AsyncSession, ticket: Ticket, viewer: Viewer, pii: PiiCipher,
                        cursor: str | None, limit: int) -> MessageList:
    after = decode_cursor(cursor)
    rows = await repository.of_ticket(session, ticket.id, include_internal=viewer.sees_internal(ticket),
                                      after=str(after[0]) if after else None, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return MessageList(items=[to_read(m, pii) for m in rows],
                       next_cursor=encode_cursor([rows[-1].id]) if more and rows else None)
