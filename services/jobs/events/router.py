from __future__ import annotations

from fastapi import APIRouter

from services.common.db import ScrubAfterResponse, SessionDep
from services.common.internal_auth import require_service
from services.jobs.events import service
from services.jobs.events.schemas import EventAck, EventIn

router = APIRouter(prefix="/internal", include_in_schema=False)


@router.post("/events", response_model=EventAck, dependencies=[require_service("identity"), ScrubAfterResponse])
async def receive_event(body: EventIn, session: SessionDep) -> EventAck:
    """Events delivered at least once by other services' outboxes."""
    return EventAck(status=await service.handle(session=session, event=body))
