from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from services.common.db import ScrubAfterResponse, SessionDep
from services.common.internal_auth import require_service
from services.legal_aid.deps import NowDep, PiiDep, StoreDep
from services.legal_aid.events import service

internal = APIRouter(prefix="/internal", include_in_schema=False,
                     dependencies=[require_service("identity"), ScrubAfterResponse])


class EventIn(BaseModel):
    id: str = Field(min_length=1, max_length=64)
    topic: str = Field(min_length=1, max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict)


@internal.post("/events")
async def receive_event(body: EventIn, session: SessionDep, pii: PiiDep, store: StoreDep,
                        now: NowDep) -> dict[str, str]:
    """At-least-once delivery from identity's outbox; the same event twice is harmless."""
    if body.topic != "account.closed":
        return {"status": "ignored"}
    account_id = body.payload.get("account_id")
    if not isinstance(account_id, str) or not account_id:
        return {"status": "ignored"}
    if await service.already_processed(session, body.id):
        return {"status": "ok"}
    await service.account_closed(session=session, account_id=account_id, pii=pii, store=store, now=now)
    await service.mark_processed(session, body.id, body.topic, now)
    return {"status": "ok"}
