"""Tickets: creation with the first-response clock, visibility, assignment, the state machine
and its audit trail, rating."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.crypto import PiiCipher
from services.common.errors import Forbidden, ProblemError, ServiceUnavailable
from services.common.http import OrgDirectory, ServiceClient, in_subtree
from services.common.ids import new_id
from services.common.logging import log_event
from services.common.pagination import decode_cursor, encode_cursor
from services.legal_aid.events import notices
from services.legal_aid.tickets import repository
from services.legal_aid.tickets.access import Viewer
from services.legal_aid.tickets.errors import (
    AlreadyRated,
    InvalidAssignee,
    InvalidOrg,
    InvalidTransition,
    NoteRequired,
    NotRateable,
    OrgRequired,
    TicketNotFound,
)
from services.legal_aid.tickets.models import CLOCK_RUNNING, Rating, Ticket, TicketEvent
from services.legal_aid.tickets.schemas import (
    EventList,
    EventRead,
    RatingCreate,
    RatingInfo,
    RatingRead,
    TicketCreate,
    TicketList,
    TicketRead,
    TicketSummary,
)
from services.legal_aid.workdays import service as calendar
from services.legal_aid.workdays.clock import due_after, resumed_due

logger = logging.getLogger("smartunion.legal_aid.tickets")

# action → {from status: to status}. The contract's graph: submitted → accepted ⇄ waiting_member
# → resolved → closed; submitted → rejected. waiting_member → accepted happens when the member
# replies, or by `accept` when the member answered another way (a phone call).
TRANSITIONS: dict[str, dict[str, str]] = {
    "accept": {"submitted": "accepted", "waiting_member": "accepted"},
    "reject": {"submitted": "rejected"},
    "request_info": {"accepted": "waiting_member"},
    "resolve": {"accepted": "resolved", "waiting_member": "resolved"},
    "close": {"resolved": "closed"},
}
ASSIGNABLE = ("submitted", "accepted", "waiting_member")
# Notes of these actions are addressed to the member, so they are also posted as public replies.
NOTE_TO_MEMBER = ("reject", "request_info")


# -- encryption of case text -----------------------------------------------------------------
def seal(pii: PiiCipher, ticket_id: str, field: str, value: str) -> str:
    return pii.encrypt(value, context=f"legal:{ticket_id}:{field}")


def unseal(pii: PiiCipher, ticket_id: str, field: str, stored: str | None) -> str | None:
    return None if stored is None else pii.decrypt(stored, context=f"legal:{ticket_id}:{field}")


# -- answers ---------------------------------------------------------------------------------
def is_overdue(ticket: Ticket, now: datetime) -> bool:
    return (ticket.first_response_at is None and ticket.status in CLOCK_RUNNING
            and ticket.first_response_due_at <= now)


def _summary_fields(ticket: Ticket, viewer: Viewer, pii: PiiCipher, now: datetime) -> dict[str, Any]:
    count = ticket.public_message_count
    if viewer.sees_internal(ticket):
        count += ticket.internal_message_count
    return {
        "id": ticket.id, "status": ticket.status, "category": ticket.category,
        "title": unseal(pii, ticket.id, "title", ticket.title_enc) or "",
        "org_id": ticket.org_id, "owner_id": ticket.owner_id, "assignee_id": ticket.assignee_id,
        "first_response_due_at": ticket.first_response_due_at, "first_response_at": ticket.first_response_at,
        "overdue": is_overdue(ticket, now), "clock_paused": ticket.paused_at is not None,
        "calendar_fallback": ticket.calendar_fallback, "message_count": count,
        "created_at": ticket.created_at, "updated_at": ticket.updated_at,
    }


def to_read(ticket: Ticket, viewer: Viewer, pii: PiiCipher, now: datetime, rating: Rating | None) -> TicketRead:
    return TicketRead(
        **_summary_fields(ticket, viewer, pii, now),
        description=unseal(pii, ticket.id, "description", ticket.description_enc) or "",
        employer_name=unseal(pii, ticket.id, "employer", ticket.employer_name_enc),
        amount_involved_fen=ticket.amount_involved_fen,
        rating=None if rating is None else RatingInfo(
            score=rating.score, comment=unseal(pii, ticket.id, "rating", rating.comment_enc),
            created_at=rating.created_at),
    )


async def read(session: AsyncSession, ticket: Ticket, viewer: Viewer, pii: PiiCipher, now: datetime) -> TicketRead:
    return to_read(ticket, viewer, pii, now, await repository.rating(session, ticket.id))


# -- lookups -----------------------------------------------------------------------------------
async def get_visible(session: AsyncSession, ticket_id: str, viewer: Viewer, *, for_update: bool = False) -> Ticket:
    ticket = await repository.get(session, ticket_id, for_update=for_update)
    if ticket is None or not viewer.can_see(ticket):
        raise TicketNotFound
    return ticket


async def get_handled(session: AsyncSession, ticket_id: str, viewer: Viewer, *, for_update: bool = False) -> Ticket:
    """A ticket the caller handles (staff in scope or assignee); the owner is refused with 403."""
    ticket = await get_visible(session, ticket_id, viewer, for_update=for_update)
    if not viewer.handles(ticket):
        raise Forbidden("只有工会工作人员或承办律师可以执行此操作")
    return ticket


async def list_tickets(session: AsyncSession, *, viewer: Viewer, pii: PiiCipher, now: datetime,
                       status: str | None, overdue: bool | None, sort: str, cursor: str | None,
                       limit: int) -> TicketList:
    after = decode_cursor(cursor)
    if after is not None:
        after = _check_cursor(after, sort)
    rows = await repository.list_visible(
        session, account_id=viewer.account_id, is_admin=viewer.is_admin,
        staff_path=viewer.staff_path if viewer.principal.has("staff") else None,
        status=status, overdue=overdue, now=now, sort=sort, after=after, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        key = [last.first_response_due_at.isoformat(), last.id] if sort == "due" else [last.id]
        next_cursor = encode_cursor(key)
    return TicketList(items=[TicketSummary(**_summary_fields(t, viewer, pii, now)) for t in rows],
                      next_cursor=next_cursor)


def _check_cursor(after: list[Any], sort: str) -> list[Any]:
    bad = ProblemError("游标无效", code="invalid_cursor", status=422)
    if sort == "due":
        if len(after) != 2 or not all(isinstance(v, str) for v in after):
            raise bad
        try:
            due = datetime.fromisoformat(after[0])
        except ValueError:
            raise bad from None
        if due.tzinfo is None:
            raise bad
        return [due, after[1]]
    if len(after) != 1 or not isinstance(after[0], str):
        raise bad
    return after


# -- creation ----------------------------------------------------------------------------------
async def _org_for(*, data: TicketCreate, owner_id: str, orgs: OrgDirectory,
                   membership: ServiceClient) -> tuple[str, str]:
    if data.org_id is not None:
        org = await orgs.get(data.org_id)
        if org is None:
            raise InvalidOrg
        return str(org["id"]), str(org["path"])
    resp = await membership.request("GET", f"/internal/members/by-account/{owner_id}")
    if resp.status_code == 404:
        raise OrgRequired
    if resp.status_code != 200:
        raise ServiceUnavailable("membership 服务暂时不可用", code="upstream_unavailable")
    member = resp.json()
    org_id = str(member["org_id"])
    path = member.get("org_path") or await orgs.path(org_id)
    if not path:
        raise ServiceUnavailable("membership 服务暂时不可用", code="upstream_unavailable")
    return org_id, str(path)


async def create_ticket(*, session: AsyncSession, data: TicketCreate, viewer: Viewer, pii: PiiCipher,
                        orgs: OrgDirectory, membership: ServiceClient, working_days: int,
                        now: datetime) -> Ticket:
    org_id, org_path = await _org_for(data=data, owner_id=viewer.account_id, orgs=orgs, membership=membership)
    ticket_id = new_id()
    cal = await calendar.load(session, start=now)
    due = due_after(cal, now, working_days)
    ticket = Ticket(
        id=ticket_id, owner_id=viewer.account_id, org_id=org_id, org_path=org_path, category=data.category,
        title_enc=seal(pii, ticket_id, "title", data.title),
        description_enc=seal(pii, ticket_id, "description", data.description),
        employer_name_enc=seal(pii, ticket_id, "employer", data.employer_name) if data.employer_name else None,
        amount_involved_fen=data.amount_involved_fen, status="submitted", first_response_due_at=due,
        calendar_fallback=calendar.report_fallback(cal, ticket_id=ticket_id),
        public_message_count=0, internal_message_count=0, created_at=now, updated_at=now,
    )
    await repository.add(session, ticket)
    await repository.add_event(session, TicketEvent(ticket_id=ticket_id, actor_id=viewer.account_id,
                                                    action="submit", from_status=None, to_status="submitted",
                                                    created_at=now))
    log_event(logger, "ticket submitted", ticket_id=ticket_id, org_id=org_id, category=data.category)
    return ticket


# -- state machine -------------------------------------------------------------------------------
async def _record(session: AsyncSession, pii: PiiCipher, ticket: Ticket, *, actor_id: str, action: str,
                  from_status: str | None, note: str | None = None, now: datetime,
                  from_assignee: str | None = None, to_assignee: str | None = None) -> None:
    event_id = new_id()
    await repository.add_event(session, TicketEvent(
        id=event_id, ticket_id=ticket.id, actor_id=actor_id, action=action, from_status=from_status,
        to_status=ticket.status, from_assignee_id=from_assignee, to_assignee_id=to_assignee,
        note_enc=pii.encrypt(note, context=f"legal:{ticket.id}:event:{event_id}") if note else None,
        created_at=now))


async def move(session: AsyncSession, pii: PiiCipher, ticket: Ticket, *, to: str, actor_id: str, action: str,
               note: str | None, now: datetime) -> None:
    """Change status, keep the clock right (a pause extends the due time) and record the event."""
    from_status = ticket.status
    if from_status == "waiting_member" and ticket.paused_at is not None:
        cal = await calendar.load(session, start=ticket.paused_at, end=now)
        ticket.first_response_due_at = resumed_due(cal, ticket.first_response_due_at, ticket.paused_at, now)
        if calendar.report_fallback(cal, ticket_id=ticket.id):
            ticket.calendar_fallback = True
        ticket.paused_at = None
    if to == "waiting_member":
        ticket.paused_at = now
    ticket.status = to
    ticket.updated_at = now
    await _record(session, pii, ticket, actor_id=actor_id, action=action, from_status=from_status, note=note,
                  now=now)
    log_event(logger, "ticket status changed", ticket_id=ticket.id, action=action, from_status=from_status,
              to_status=to)


async def act(*, session: AsyncSession, ticket: Ticket, action: str, note: str | None, viewer: Viewer,
              pii: PiiCipher, now: datetime) -> Ticket:
    note = note or None
    if action == "reject" and not note:
        raise NoteRequired
    target = TRANSITIONS[action].get(ticket.status)
    if target is None:
        raise InvalidTransition(ticket.status, action)
    await move(session, pii, ticket, to=target, actor_id=viewer.account_id, action=action, note=note, now=now)
    if not viewer.is_owner(ticket):
        await notices.ticket_status(session, ticket)
    return ticket


def note_for_member(action: str, note: str | None) -> str | None:
    """The note of a rejection or of a request for information is addressed to the member."""
    return note if note and action in NOTE_TO_MEMBER else None


async def assign(*, session: AsyncSession, ticket: Ticket, lawyer_id: str, viewer: Viewer, pii: PiiCipher,
                 identity: ServiceClient, orgs: OrgDirectory, now: datetime) -> Ticket:
    if not viewer.is_staff_for(ticket):
        raise Forbidden("只有该组织的工会工作人员可以指派律师")
    if ticket.status not in ASSIGNABLE:
        raise InvalidTransition(ticket.status, "assign")
    if not await lawyer_covers(identity=identity, orgs=orgs, lawyer_id=lawyer_id, org_path=ticket.org_path):
        raise InvalidAssignee
    previous = ticket.assignee_id
    if previous == lawyer_id:
        return ticket
    ticket.assignee_id = lawyer_id
    ticket.updated_at = now
    await _record(session, pii, ticket, actor_id=viewer.account_id, action="reassign" if previous else "assign",
                  from_status=ticket.status, now=now, from_assignee=previous, to_assignee=lawyer_id)
    log_event(logger, "ticket assigned", ticket_id=ticket.id, lawyer_id=lawyer_id, previous=previous)
    return ticket


async def lawyer_covers(*, identity: ServiceClient, orgs: OrgDirectory, lawyer_id: str, org_path: str) -> bool:
    if not lawyer_id.isalnum():
        return False
    resp = await identity.request("GET", f"/internal/accounts/{lawyer_id}")
    if resp.status_code == 404:
        return False
    if resp.status_code != 200:
        raise ServiceUnavailable("identity 服务暂时不可用", code="upstream_unavailable")
    account = resp.json()
    if account.get("status") != "active" or "lawyer" not in (account.get("roles") or []):
        return False
    return in_subtree(org_path, await orgs.path(account.get("org_id")))


async def events(*, session: AsyncSession, ticket: Ticket, pii: PiiCipher, cursor: str | None,
                 limit: int) -> EventList:
    after = decode_cursor(cursor)
    last_id = str(after[0]) if after else None
    rows = await repository.events(session, ticket.id, after=last_id, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return EventList(
        items=[EventRead(id=e.id, ticket_id=e.ticket_id, actor_id=e.actor_id, action=e.action,
                         from_status=e.from_status, to_status=e.to_status, from_assignee_id=e.from_assignee_id,
                         to_assignee_id=e.to_assignee_id,
                         note=pii.decrypt(e.note_enc, context=f"legal:{ticket.id}:event:{e.id}") if e.note_enc
                         else None,
                         created_at=e.created_at) for e in rows],
        next_cursor=encode_cursor([rows[-1].id]) if more and rows else None)


# -- replies and rating --------------------------------------------------------------------------
def note_public_reply(ticket: Ticket, viewer: Viewer, now: datetime) -> None:
    """The first public reply by staff or the assignee meets the first-response deadline."""
    if ticket.first_response_at is None and viewer.handles(ticket) and not viewer.is_owner(ticket):
        ticket.first_response_at = now


async def rate(*, session: AsyncSession, ticket: Ticket, data: RatingCreate, viewer: Viewer, pii: PiiCipher,
               now: datetime) -> RatingRead:
    if not viewer.is_owner(ticket):
        raise Forbidden("只有咨询人可以评价")
    if ticket.status not in ("resolved", "closed"):
        raise NotRateable
    if await repository.rating(session, ticket.id) is not None:
        raise AlreadyRated
    comment = data.comment or None
    rating = Rating(ticket_id=ticket.id, score=data.score, created_at=now,
                    comment_enc=seal(pii, ticket.id, "rating", comment) if comment else None)
    try:
        async with session.begin_nested():
            await repository.add_rating(session, rating)
    except IntegrityError:
        raise AlreadyRated from None
    log_event(logger, "ticket rated", ticket_id=ticket.id, score=data.score)
    return RatingRead(ticket_id=ticket.id, score=data.score, comment=comment, created_at=now)
