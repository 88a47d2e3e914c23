from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, ValidationError

from services.common.auth import PrincipalDep
from services.common.db import SessionDep
from services.common.internal_auth import require_service
from services.common.pagination import Cursor, Limit, decode_cursor
from services.identity.notifications import repository, service
from services.identity.notifications.schemas import (
    NotificationList,
    NotificationPayload,
    NotificationRead,
    SubscriptionGrant,
    SubscriptionRead,
)

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])
internal = APIRouter(prefix="/internal", include_in_schema=False)


@router.get("", response_model=NotificationList)
async def list_notifications(principal: PrincipalDep, session: SessionDep, unread: bool | None = None,
                             limit: Limit = 20, cursor: Cursor = None) -> NotificationList:
    """The caller's inbox, newest first; `?unread=true` for unread only."""
    return await service.list_own(session=session, account_id=principal.account_id, unread=unread,
                                  after=decode_cursor(cursor), limit=limit)


@router.post("/{notification_id}/read", response_model=NotificationRead)
async def read(notification_id: str, principal: PrincipalDep,
               session: SessionDep) -> NotificationRead:
    """Mark one of the caller's notifications read (another person's: 404)."""
    notification = await service.mark_read(session=session, account_id=principal.account_id,
                                           notification_id=notification_id)
    return NotificationRead.model_validate(notification)


@router.post("/wechat-subscriptions", response_model=list[SubscriptionRead])
async def grant_subscriptions(body: SubscriptionGrant, principal: PrincipalDep,
                              session: SessionDep) -> list[SubscriptionRead]:
    """The mini-program reports the templates the user accepted in wx.requestSubscribeMessage;
    each acceptance allows one WeChat message of that kind."""
    subs = [await repository.grant(session, principal.account_id, kind) for kind in dict.fromkeys(body.kinds)]
    return [SubscriptionRead(kind=s.kind, remaining=s.remaining) for s in subs]


class EventIn(BaseModel):
    id: str = Field(min_length=1, max_length=64)
    topic: str = Field(max_length=64)
    payload: dict[str, Any]


@internal.post("/events")
async def receive_event(event: EventIn, request: Request, session: SessionDep,
                        _: Annotated[str, require_service("membership", "legal_aid", "jobs", "benefits")]
                        ) -> dict[str, str]:
    """Events from other services' outboxes (at least once; idempotent by event id)."""
    if event.topic != "notification":
        return {"status": "ignored"}
    try:
        payload = NotificationPayload.model_validate(event.payload)
    except ValidationError:
        return {"status": "ignored"}  # a malformed event is never going to become valid: drop it
    status = await service.deliver(session=session, event_id=event.id, payload=payload,
                                   wechat=request.app.state.wechat,
                                   template_ids=request.app.state.settings.wechat_template_ids)
    return {"status": status}
