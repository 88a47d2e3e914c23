from __future__ import annotations

from fastapi import APIRouter

from services.common.db import SessionDep
from services.common.pagination import Cursor, Limit
from services.legal_aid.deps import NowDep, PiiDep
from services.legal_aid.messages import service
from services.legal_aid.messages.schemas import MessageCreate, MessageList, MessageRead
from services.legal_aid.tickets import service as tickets
from services.legal_aid.tickets.access import ViewerDep

router = APIRouter(tags=["legal aid"])


@router.post("/api/v1/legal/tickets/{ticket_id}/messages", status_code=201, response_model=MessageRead)
async def post_message(ticket_id: str, body: MessageCreate, viewer: ViewerDep, session: SessionDep, pii: PiiDep,
                       now: NowDep) -> MessageRead:
    """Reply on a ticket (owner, assignee, staff in scope). `internal: true` is a note only staff
    and the assignee see (403 for the owner). The owner's reply while `waiting_member` returns
    the ticket to `accepted`."""
    ticket = await tickets.get_visible(session, ticket_id, viewer, for_update=True)
    message = await service.post(session=session, ticket=ticket, viewer=viewer, pii=pii, body=body.body,
                                 internal=body.internal, now=now)
    return service.to_read(message, pii)


@router.get("/api/v1/legal/tickets/{ticket_id}/messages", response_model=MessageList)
async def list_messages(ticket_id: str, viewer: ViewerDep, session: SessionDep, pii: PiiDep, limit: Limit = 20,
                        cursor: Cursor = None) -> MessageList:
    """Messages oldest first; the owner never sees internal notes."""
    ticket = await tickets.get_visible(session, ticket_id, viewer)
    return await service.list_messages(session=session, ticket=ticket, viewer=viewer, pii=pii, cursor=cursor,
                                       limit=limit)
