from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.jobs.events.models import ProcessedEvent


async def seen(session: AsyncSession, event_id: str) -> bool:
    return await session.get(ProcessedEvent, event_id) is not None


async def record(session: AsyncSession, event_id: str, topic: str) -> None:
    session.add(ProcessedEvent(id=event_id, topic=topic))
    await session.flush()
