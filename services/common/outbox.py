"""Transactional outbox relay: rows written in the same transaction as the fact they announce
are delivered at least once to each subscriber's `POST /internal/events`; subscribers are
idempotent (the event id is stable). A row is marked delivered only when every subscriber
acknowledged it, so a subscriber that was down gets it when it comes back."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import datetime
from typing import Any

from sqlalchemy import String, Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import Database, UtcDateTime, utcnow
from services.common.errors import ProblemError
from services.common.http import ServiceClient
from services.common.ids import new_id

logger = logging.getLogger("smartunion.outbox")


class OutboxMixin:
    """Columns of a service's `outbox_events` table:
    `class OutboxEvent(OutboxMixin, Base): __tablename__ = "outbox_events"`."""

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    topic: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)


async def emit(session: AsyncSession, model: Any, topic: str, payload: dict[str, Any]) -> None:
    """Record an event in the caller's transaction; the relay delivers it after commit."""
    session.add(model(topic=topic, payload=json.dumps(payload, ensure_ascii=False)))
    await session.flush()


async def notify(session: AsyncSession, model: Any, *, account_id: str, kind: str, title: str, body: str,
                 link: str | None = None) -> None:
    """A notification for a member's inbox (owned by identity, topic `notification`)."""
    await emit(session, model, "notification", {"account_id": account_id, "kind": kind, "title": title,
                                                "body": body, "link": link})


class OutboxRelay:
    def __init__(self, db: Database, model: Any, subscribers: dict[str, ServiceClient], *,
                 interval: float = 1.0) -> None:
        self._db = db
        self._model = model
        self._subscribers = subscribers
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    async def deliver_pending(self, batch: int = 100) -> int:
        """One pass; returns how many events were fully delivered."""
        model = self._model
        delivered = 0
        async with self._db.sessionmaker() as session:
            rows = list(await session.scalars(select(model).where(model.delivered_at.is_(None))
                                              .order_by(model.created_at, model.id).limit(batch)))
            for row in rows:
                event = {"id": row.id, "topic": row.topic, "payload": json.loads(row.payload)}
                acked = 0
                for name, client in self._subscribers.items():
                    try:
                        resp = await client.request("POST", "/internal/events", json=event)
                    except ProblemError:
                        continue
                    if resp.status_code == 200:
                        acked += 1
                    else:
                        logger.warning("event refused", extra={"fields": {"to": name, "status": resp.status_code,
                                                                          "topic": row.topic}})
                if acked == len(self._subscribers):
                    row.delivered_at = utcnow()
                    delivered += 1
            await session.commit()
        return delivered

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop())

    async def _loop(self) -> None:
        while True:
            try:
                await self.deliver_pending()
            except Exception:  # a database hiccup must not kill the relay; the next pass retries
                logger.warning("outbox pass failed", exc_info=True)
            await asyncio.sleep(self._interval)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
