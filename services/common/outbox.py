"""Transactional outbox relay: rows written in the same transaction as the fact they announce
are delivered at least once, through a publisher: by default an HTTP push to each subscriber's
`POST /internal/events`, in production a Redis Stream (services/common/streams.py). Subscribers are
idempotent (the event id is stable). A row is marked delivered only when the publisher took it
(every subscriber acknowledged it, or Redis appended it), so a subscriber that was down gets it
when it comes back. Delivered rows are pruned after the retention period."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import String, Text, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import Database, UtcDateTime, sqlite_write_intent, utcnow
from services.common.errors import ProblemError
from services.common.http import ServiceClient
from services.common.ids import new_id
from services.common.tasks import cancel

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


class Publisher(Protocol):
    async def publish(self, events: Sequence[dict[str, Any]]) -> list[str]:
        """Deliver events in order; returns the ids that reached every subscriber."""
        ...


class HttpPush:
    """The laptop default: POST each event to every subscriber's `/internal/events`."""

    def __init__(self, subscribers: dict[str, ServiceClient]) -> None:
        self._subscribers = subscribers

    async def publish(self, events: Sequence[dict[str, Any]]) -> list[str]:
        delivered: list[str] = []
        for event in events:
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
                                                                      "topic": event["topic"]}})
            if acked == len(self._subscribers):
                delivered.append(event["id"])
        return delivered


class OutboxRelay:
    def __init__(self, db: Database, model: Any, subscribers: dict[str, ServiceClient] | Publisher, *,
                 interval: float = 1.0, retention: timedelta = timedelta(days=7)) -> None:
        self._db = db
        self._model = model
        self.publisher: Publisher = HttpPush(subscribers) if isinstance(subscribers, dict) else subscribers
        self._interval = interval
        self._retention = retention
        self._task: asyncio.Task[None] | None = None
        self._next_prune = 0.0

    async def deliver_pending(self, batch: int = 100) -> int:
        """One pass; returns how many events were delivered."""
        if self._db.dialect == "sqlite":
            return await self._deliver_unlocked(batch)
        return await self._deliver_claimed(batch)

    async def _deliver_unlocked(self, batch: int) -> int:
        """SQLite (one process per database): no transaction is open while the publisher works;
        the pending rows are read in a read-only transaction and the delivered ones marked in a
        short write afterwards. (On SQLite a write transaction holds the database's only write
        lock: kept across HTTP calls, one slow subscriber stalled every write of this service.)"""
        model = self._model
        token = sqlite_write_intent.set(False)
        try:
            async with self._db.sessionmaker() as session:
                events = [_event(row) for row in await session.scalars(
                    select(model).where(model.delivered_at.is_(None)).order_by(model.created_at, model.id)
                    .limit(batch))]
        finally:
            sqlite_write_intent.reset(token)
        delivered = await self.publisher.publish(events)
        if delivered:
            async with self._db.sessionmaker() as session:
                await session.execute(update(model).where(model.id.in_(delivered)).values(delivered_at=utcnow()))
                await session.commit()
        return len(delivered)

    async def _deliver_claimed(self, batch: int) -> int:
        """PostgreSQL, where several replicas run a relay each: a replica locks the rows it sends
        (FOR UPDATE SKIP LOCKED), so the others take the next ones instead of sending the same
        events again. Row locks block nobody else's writes here, unlike SQLite's lock."""
        model = self._model
        async with self._db.sessionmaker() as session:
            rows = list(await session.scalars(
                select(model).where(model.delivered_at.is_(None)).order_by(model.created_at, model.id)
                .limit(batch).with_for_update(skip_locked=True)))
            delivered = await self.publisher.publish([_event(row) for row in rows])
            if delivered:
                await session.execute(update(model).where(model.id.in_(delivered)).values(delivered_at=utcnow()))
            await session.commit()
        return len(delivered)

    async def prune(self) -> int:
        """Delete delivered rows older than the retention period; pending rows are never pruned."""
        model = self._model
        async with self._db.sessionmaker() as session:
            result = await session.execute(delete(model).where(
                model.delivered_at.is_not(None), model.delivered_at < utcnow() - self._retention))
            await session.commit()
        return int(getattr(result, "rowcount", 0) or 0)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop())

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        failures = 0
        while True:
            try:
                await self.deliver_pending()
                if loop.time() >= self._next_prune:
                    self._next_prune = loop.time() + PRUNE_EVERY_SECONDS
                    await self.prune()
                failures = 0
            except Exception as exc:  # a database or Redis hiccup must not kill the relay; the next pass retries
                failures += 1
                # The whole trace for the first failure of an outage, then one line per pass.
                logger.warning("outbox pass failed: %s", type(exc).__name__, exc_info=failures == 1)
            await asyncio.sleep(self._interval)

    async def stop(self) -> None:
        await cancel(self._task)
        self._task = None


PRUNE_EVERY_SECONDS = 3600


def _event(row: Any) -> dict[str, Any]:
    return {"id": row.id, "topic": row.topic, "payload": json.loads(row.payload)}


def relay_for(app: Any, model: Any, subscribers: Sequence[str]) -> OutboxRelay:
    """The relay of a service's outbox, with the transport its settings choose: the service's
    Redis Stream in production, an HTTP push to `subscribers` by default."""
    settings = app.state.settings
    publisher: Publisher
    if app.state.event_redis is not None:
        from services.common.streams import StreamPublisher

        publisher = StreamPublisher(app.state.event_redis, settings.redis_namespace, settings.service_name,
                                    maxlen=settings.events_stream_maxlen)
    else:
        publisher = HttpPush({name: app.state.clients[name] for name in subscribers})
    return OutboxRelay(app.state.db, model, publisher, interval=getattr(settings, "outbox_interval", 1.0),
                       retention=timedelta(days=settings.outbox_retention_days))
