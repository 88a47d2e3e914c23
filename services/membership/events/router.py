from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from services.common.db import ScrubAfterResponse, SessionDep
from services.common.internal_auth import require_service
from services.membership.events import service
from services.membership.events.schemas import EventAck, EventIn

internal = APIRouter(prefix="/internal", include_in_schema=False)


@internal.post("/events", response_model=EventAck, dependencies=[ScrubAfterResponse])
async def receive(event: EventIn, caller: Annotated[str, require_service("identity")],
                  session: SessionDep) -> EventAck:
    """Events delivered (at least once) by other services' outboxes."""
    return EventAck(status=await service.handle(session=session, event=event, caller=caller))
