from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.notifications.models import Notification, WechatSubscription


async def by_event(session: AsyncSession, event_id: str) -> Notification | None:
    return await session.scalar(select(Notification).where(Notification.event_id == event_id))


async def add(session: AsyncSession, notification: Notification) -> None:
    session.add(notification)
    await session.flush()


async def page(session: AsyncSession, account_id: str, *, unread: bool | None, after: list | None,
               limit: int) -> list[Notification]:
    query = select(Notification).where(Notification.account_id == account_id)
    if unread is True:
        query = query.where(Notification.read_at.is_(None))
    elif unread is False:
        query = query.where(Notification.read_at.is_not(None))
    if after:
        created = datetime.fromisoformat(after[0])
        query = query.where(or_(Notification.created_at < created,
                                and_(Notification.created_at == created, Notification.id < after[1])))
    query = query.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit + 1)
    return list(await session.scalars(query))


async def get_own(session: AsyncSession, account_id: str, notification_id: str) -> Notification | None:
    return await session.scalar(select(Notification).where(Notification.id == notification_id,
                                                           Notification.account_id == account_id))


async def grant(session: AsyncSession, account_id: str, kind: str) -> WechatSubscription:
    sub = await session.scalar(select(WechatSubscription).where(WechatSubscription.account_id == account_id,
                                                                WechatSubscription.kind == kind))
    if sub is None:
        sub = WechatSubscription(account_id=account_id, kind=kind, remaining=0)
        session.add(sub)
    sub.remaining = min(sub.remaining + 1, 50)
    await session.flush()
    return sub


async def take_grant(session: AsyncSession, account_id: str, kind: str) -> bool:
    """Use one grant atomically (a grant is good for exactly one message)."""
    result = await session.execute(update(WechatSubscription).where(
        WechatSubscription.account_id == account_id, WechatSubscription.kind == kind,
        WechatSubscription.remaining > 0).values(remaining=WechatSubscription.remaining - 1))
    return result.rowcount == 1  # type: ignore[attr-defined]


async def delete_for(session: AsyncSession, account_id: str) -> None:
    await session.execute(delete(Notification).where(Notification.account_id == account_id))
    await session.execute(delete(WechatSubscription).where(WechatSubscription.account_id == account_id))
