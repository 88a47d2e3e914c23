from __future__ import annotations

from fastapi import APIRouter

from services.common.db import SessionDep
from services.common.errors import Forbidden
from services.common.pagination import Cursor, Limit
from services.legal_aid.deps import IdentityDep, MembershipDep, NowDep, OrgsDep, PiiDep, SettingsDep
from services.legal_aid.messages import service as messages
from services.legal_aid.tickets import service
from services.legal_aid.tickets.access import ViewerDep
from services.legal_aid.tickets.schemas import (
    ActionRequest,
    AssignRequest,
    EventList,
    RatingCreate,
    RatingRead,
    Sort,
    Status,
    TicketCreate,
    TicketList,
    TicketRead,
)

router = APIRouter(tags=["legal aid"])


@router.post("/api/v1/legal/tickets", status_code=201, response_model=TicketRead)
async def create_ticket(body: TicketCreate, viewer: ViewerDep, session: SessionDep, pii: PiiDep, orgs: OrgsDep,
                        membership: MembershipDep, settings: SettingsDep, now: NowDep) -> TicketRead:
    """Open a consultation. `org_id` is the union asked for help: the member's own union when
    omitted (422 `org_required` for a non-member). The first public reply is due 2 working days
    later (`first_response_due_at`)."""
    ticket = await service.create_ticket(session=session, data=body, viewer=viewer, pii=pii, orgs=orgs,
                                         membership=membership, working_days=settings.first_response_working_days,
                                         now=now)
    return service.to_read(ticket, viewer, pii, now, None)


@router.get("/api/v1/legal/tickets", response_model=TicketList)
async def list_tickets(viewer: ViewerDep, session: SessionDep, pii: PiiDep, now: NowDep,
                       status: Status | None = None, overdue: bool | None = None, sort: Sort = "newest",
                       limit: Limit = 20, cursor: Cursor = None) -> TicketList:
    """Own tickets, tickets assigned to the caller (lawyer) and the org subtree's (staff; admin:
    all). `sort=due` is the staff queue: earliest first-response due time first."""
    return await service.list_tickets(session, viewer=viewer, pii=pii, now=now, status=status, overdue=overdue,
                                      sort=sort, cursor=cursor, limit=limit)


@router.get("/api/v1/legal/tickets/{ticket_id}", response_model=TicketRead)
async def get_ticket(ticket_id: str, viewer: ViewerDep, session: SessionDep, pii: PiiDep,
                     now: NowDep) -> TicketRead:
    """One ticket, for its owner, its assignee and staff whose subtree holds it (others: 404)."""
    ticket = await service.get_visible(session, ticket_id, viewer)
    return await service.read(session, ticket, viewer, pii, now)


@router.post("/api/v1/legal/tickets/{ticket_id}/assign", response_model=TicketRead)
async def assign(ticket_id: str, body: AssignRequest, viewer: ViewerDep, session: SessionDep, pii: PiiDep,
                 identity: IdentityDep, orgs: OrgsDep, now: NowDep) -> TicketRead:
    """Assign (or re-assign) an active `lawyer` whose org subtree holds the ticket's org (staff in
    scope). 422 `invalid_assignee` otherwise. Recorded in the event trail."""
    ticket = await service.get_visible(session, ticket_id, viewer, for_update=True)
    await service.assign(session=session, ticket=ticket, lawyer_id=body.lawyer_id, viewer=viewer, pii=pii,
                         identity=identity, orgs=orgs, now=now)
    return await service.read(session, ticket, viewer, pii, now)


@router.post("/api/v1/legal/tickets/{ticket_id}/actions", response_model=TicketRead)
async def act(ticket_id: str, body: ActionRequest, viewer: ViewerDep, session: SessionDep, pii: PiiDep,
              now: NowDep) -> TicketRead:
    """Move the ticket (staff in scope or the assignee): accept, reject (note required),
    request_info, resolve, close; anything the state machine does not allow is 409
    `invalid_transition`. Notes of reject and request_info are also sent to the member."""
    ticket = await service.get_handled(session, ticket_id, viewer, for_update=True)
    await service.act(session=session, ticket=ticket, action=body.action, note=body.note, viewer=viewer, pii=pii,
                      now=now)
    if note := service.note_for_member(body.action, body.note):
        await messages.add_message(session=session, ticket=ticket, viewer=viewer, pii=pii, body=note,
                                   internal=False, now=now)
    return await service.read(session, ticket, viewer, pii, now)


@router.get("/api/v1/legal/tickets/{ticket_id}/events", response_model=EventList)
async def events(ticket_id: str, viewer: ViewerDep, session: SessionDep, pii: PiiDep, limit: Limit = 20,
                 cursor: Cursor = None) -> EventList:
    """The audit trail (actor, from, to, note, time), oldest first: staff in scope and the assignee."""
    ticket = await service.get_handled(session, ticket_id, viewer)
    return await service.events(session=session, ticket=ticket, pii=pii, cursor=cursor, limit=limit)


@router.post("/api/v1/legal/tickets/{ticket_id}/rating", status_code=201, response_model=RatingRead)
async def rate(ticket_id: str, body: RatingCreate, viewer: ViewerDep, session: SessionDep, pii: PiiDep,
               now: NowDep) -> RatingRead:
    """Rate the help received: the owner, once (409 `already_rated`), after `resolved`/`closed`."""
    ticket = await service.get_visible(session, ticket_id, viewer, for_update=True)
    if not viewer.is_owner(ticket):
        raise Forbidden("只有咨询人可以评价")
    return await service.rate(session=session, ticket=ticket, data=body, viewer=viewer, pii=pii, now=now)

