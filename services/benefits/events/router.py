from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from services.benefits.events import service
from services.common.db import ScrubAfterResponse, SessionDep
from services.common.internal_auth import require_service

internal = APIRouter(prefix="/internal", include_in_schema=False,
                     dependencies=[require_service("identity"), ScrubAfterResponse])


class EventIn(BaseModel):
    id: str = Field(max_length=64)
    topic: str = Field(max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict)


@internal.post("/events")
async def receive(event: EventIn, session: SessionDep) -> dict[str, str]:
    """At-least-once delivery from identity's outbox; handlers are idempotent."""
    handled = await service.handle(session=session, topic=event.topic, payload=event.payload)
    return {"status": "ok" if handled else "ignored"}
