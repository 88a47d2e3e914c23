from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.legal_aid.messages.models import Message


async def add(session: AsyncSession, message: Message) -> None:
    session.add(message)
    await session.flush()


async def of_ticket(session: AsyncSession, ticket_id: str, *, include_internal: bool, after: str | None,
                    limit: int) -> list[Message]:
    stmt = select(Message).where(Message.ticket_id == ticket_id)
    if not include_internal:
        stmt = stmt.where(Message.internal.is_(False))
    if after is not None:
        stmt = stmt.where(Message.id > after)
    return list(await session.scalars(stmt.order_by(Message.id).limit(limit)))


async def by_author_on(session: AsyncSession, ticket_id: str, author_id: str) -> list[Message]:
    return list(await session.scalars(select(Message).where(Message.ticket_id == ticket_id,
                                                            Message.author_id == author_id)))
