from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.legal_aid.attachments.models import Attachment


async def get(session: AsyncSession, attachment_id: str) -> Attachment | None:
    return await session.get(Attachment, attachment_id)


async def add(session: AsyncSession, attachment: Attachment) -> None:
    session.add(attachment)
    await session.flush()


async def of_ticket(session: AsyncSession, ticket_id: str, *, after: str | None, limit: int) -> list[Attachment]:
    stmt = select(Attachment).where(Attachment.ticket_id == ticket_id, Attachment.deleted_at.is_(None))
    if after is not None:
        stmt = stmt.where(Attachment.id > after)
    return list(await session.scalars(stmt.order_by(Attachment.id).limit(limit)))


async def by_uploader_on(session: AsyncSession, ticket_id: str, uploader_id: str) -> list[Attachment]:
    return list(await session.scalars(select(Attachment).where(Attachment.ticket_id == ticket_id,
                                                               Attachment.uploader_id == uploader_id)))
