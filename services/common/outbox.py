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

from sqlalchemy import String, Text, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import Database, UtcDateTime, sqlite_write_intent, utcnow
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
        """One pass; returns how many events were fully delivered.

        No transaction is open while subscribers are called: the pending rows are read in a
        read-only transaction, and the delivered ones marked in a short write afterwards. (On
        SQLite a write transaction holds the database's only write lock: kept across HTTP calls,
        one slow subscriber stalled every write of this service.)"""
        model = self._model
        token = sqlite_write_intent.set(False)
        try:
            async with self._db.sessionmaker() as session:
                rows = [(row.id, row.topic, row.payload) for row in await session.scalars(
                    select(model).where(model.delivered_at.is_(None)).order_by(model.created_at, model.id)
                    .limit(batch))]
        finally:
            sqlite_write_intent.reset(token)
        delivered: list[str] = []
        for event_id, topic, payload in rows:
            event = {"id": event_id, "topic": topic, "payload": json.loads(payload)}
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
                                                                      "topic": topic}})
            if acked == len(self._subscribers):
                delivered.append(event_id)
        if delivered:
            async with self._db.sessionmaker() as session:
                await session.execute(update(model).where(model.id.in_(delivered)).values(delivered_at=utcnow()))
                await session.commit()
        return len(delivered)

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
