"""The outbox relay on both databases: delivered rows are pruned after the retention period
(pending ones never), and on PostgreSQL relays of several replicas do not send the same rows."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from services.common.db import Database, utcnow
from services.common.outbox import OutboxRelay, emit
from services.identity.accounts.models import OutboxEvent


class SlowPublisher:
    """Takes a while per batch, as a subscriber across the network does, and counts what it got."""

    def __init__(self, seen: list[str]) -> None:
        self.seen = seen

    async def publish(self, events: Sequence[dict[str, Any]]) -> list[str]:
        await asyncio.sleep(0.05)
        self.seen.extend(e["id"] for e in events)
        return [e["id"] for e in events]


@pytest.fixture
def identity_url(db_url: Callable[[str], str]) -> str:
    return db_url("identity")  # migrated in a synchronous fixture: it runs its own event loop


async def add_events(db: Database, n: int) -> None:
    async with db.sessionmaker() as session:
        for i in range(n):
            await emit(session, OutboxEvent, "account.closed", {"account_id": f"acc-{i}"})
        await session.commit()


async def test_delivered_rows_are_pruned_after_retention_pending_rows_never(identity_url: str) -> None:
    db = Database(identity_url)
    try:
        seen: list[str] = []
        relay = OutboxRelay(db, OutboxEvent, SlowPublisher(seen), retention=timedelta(days=7))
        await add_events(db, 3)
        assert await relay.deliver_pending() == 3
        await add_events(db, 1)  # still pending
        async with db.sessionmaker() as session:
            delivered = list(await session.scalars(select(OutboxEvent.id).where(OutboxEvent.delivered_at.is_not(None))))
            # Two were delivered eight days ago, one an hour ago.
            await session.execute(update(OutboxEvent).where(OutboxEvent.id.in_(delivered[:2]))
                                  .values(delivered_at=utcnow() - timedelta(days=8)))
            await session.execute(update(OutboxEvent).where(OutboxEvent.id == delivered[2])
                                  .values(delivered_at=utcnow() - timedelta(hours=1)))
            await session.commit()
        assert await relay.prune() == 2
        async with db.sessionmaker() as session:
            left = {row.id: row.delivered_at for row in await session.scalars(select(OutboxEvent))}
        assert set(left) - set(delivered) and delivered[2] in left and len(left) == 2
        assert await relay.deliver_pending() == 1  # the pending one is still delivered
    finally:
        await db.dispose()


async def test_relays_of_several_replicas_send_each_row_once_on_postgres(backend: str, identity_url: str) -> None:
    if backend != "postgres":
        pytest.skip("SQLite is one process per database: there is one relay")
    dbs = [Database(identity_url) for _ in range(3)]
    try:
        await add_events(dbs[0], 60)
        seen: list[str] = []
        relays = [OutboxRelay(db, OutboxEvent, SlowPublisher(seen)) for db in dbs]
        while sum(await asyncio.gather(*(relay.deliver_pending(batch=10) for relay in relays))):
            pass
        assert len(seen) == 60 and len(set(seen)) == 60  # every row sent, none twice
        async with dbs[0].sessionmaker() as session:
            assert await session.scalar(select(func.count()).where(OutboxEvent.delivered_at.is_(None))) == 0
    finally:
        for db in dbs:
            await db.dispose()
