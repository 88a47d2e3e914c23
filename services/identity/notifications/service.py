"""The members' inbox (CONTRACT §9), fed by other services' outboxes (topic `notification`), and
WeChat subscribe messages for mini-program users who accepted the template."""

from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.db import utcnow
from services.common.errors import ProblemError
from services.common.pagination import encode_cursor
from services.identity.accounts import repository as accounts
from services.identity.notifications import repository
from services.identity.notifications.errors import NotificationNotFound
from services.identity.notifications.models import Notification
from services.identity.notifications.schemas import NotificationList, NotificationPayload, NotificationRead
from services.identity.wechat.client import WechatClient

logger = logging.getLogger("smartunion.identity.notifications")


async def deliver(*, session: AsyncSession, event_id: str, payload: NotificationPayload,
                  wechat: WechatClient | None, template_ids: dict[str, str]) -> str:
    if await repository.by_event(session, event_id) is not None:
        return "duplicate"
    account = await accounts.get_active(session, payload.account_id)
    if account is None:
        return "ignored"  # closed account: nobody to tell, and nothing to keep
    notification = Notification(event_id=event_id, account_id=account.id, kind=payload.kind, title=payload.title,
                                body=payload.body, link=payload.link)
    try:
        async with session.begin_nested():
            await repository.add(session, notification)
    except IntegrityError:
        return "duplicate"  # the same event delivered twice at once
    template = template_ids.get(payload.kind)
    identities = await accounts.wechat_identities_of(session, account.id)
    if wechat is not None and template and identities and await repository.take_grant(session, account.id,
                                                                                       payload.kind):
        message = {"touser": identities[0].openid, "template_id": template, "page": payload.link or "",
                   "data": {"thing1": {"value": payload.title[:20]}, "thing2": {"value": payload.body[:20]}},
                   "miniprogram_state": "formal", "lang": "zh_CN"}
        try:
            await wechat.send_subscribe_message(message)
        except ProblemError as exc:
            # The inbox entry is what counts; a lost push is logged, not retried forever.
            logger.warning("wechat subscribe message failed", extra={"fields": {"code": exc.code,
                                                                                "notification": notification.id}})
    return "ok"


async def list_own(*, session: AsyncSession, account_id: str, unread: bool | None, after: list | None,
                   limit: int) -> NotificationList:
    rows = await repository.page(session, account_id, unread=unread, after=after, limit=limit)
    items = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = encode_cursor([last.created_at.isoformat(), last.id])
    return NotificationList(items=[NotificationRead.model_validate(n) for n in items], next_cursor=next_cursor)


async def mark_read(*, session: AsyncSession, account_id: str, notification_id: str) -> Notification:
    notification = await repository.get_own(session, account_id, notification_id)
    if notification is None:
        raise NotificationNotFound
    if notification.read_at is None:
        notification.read_at = utcnow()
        await session.flush()
    return notification
