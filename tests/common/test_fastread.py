"""FastReads: the latest committed data on both backends, and a busy SQLite never blocks the loop."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Column, MetaData, String, Table, bindparam, select

from services.common.db import Database
from services.common.fastread import FastReads
from services.membership.orgs.models import Org

BY_ID = select(Org.id, Org.name).where(Org.id == bindparam("org_id"))


@pytest.fixture
def membership_url(db_url: Callable[[str], str]) -> str:
    return db_url("membership")


async def _insert(db: Database, org_id: str, name: str) -> None:
    async with db.sessionmaker() as session:
        session.add(Org(id=org_id, name=name, parent_id=None, path=f"/{org_id}/", depth=0))
        await session.commit()


async def test_reads_see_each_commit(membership_url: str) -> None:
    db = Database(membership_url)
    reads = FastReads(db)
    try:
        assert await reads.first(BY_ID, {"org_id": "o1"}) is None
        await _insert(db, "o1", "广州市总工会")
        assert await reads.first(BY_ID, {"org_id": "o1"}) == ("o1", "广州市总工会")
        await _insert(db, "o2", "深圳市总工会")
        assert await reads.first(BY_ID, {"org_id": "o2"}) == ("o2", "深圳市总工会")
    finally:
        await reads.aclose()
        await db.dispose()


async def test_busy_sqlite_waits_in_a_thread(tmp_path: Path) -> None:
    """A reader gets "busy" when a writer holds the lock (simulated on a rollback-journal file, where
    an exclusive writer blocks readers; under WAL this happens only in rare moments): the read waits
    in a thread while the loop keeps running, and then answers."""
    path = tmp_path / "busy.db"
    setup = sqlite3.connect(path, isolation_level=None)
    setup.execute("CREATE TABLE t (id TEXT PRIMARY KEY, name TEXT)")
    setup.execute("INSERT INTO t VALUES ('a', '甲')")
    setup.close()
    table = Table("t", MetaData(), Column("id", String, primary_key=True), Column("name", String))
    stmt = select(table.c.id, table.c.name).where(table.c.id == bindparam("id"))
    db = Database(f"sqlite+aiosqlite:///{path}")  # never connected: the file stays in rollback-journal mode
    reads = FastReads(db)
    try:
        assert await reads.first(stmt, {"id": "a"}) == ("a", "甲")
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("UPDATE t SET name = '乙'")
        task = asyncio.create_task(reads.first(stmt, {"id": "a"}))
        ticks = 0
        started = time.monotonic()
        while time.monotonic() - started < 0.3:  # the loop keeps running while the read waits
            await asyncio.sleep(0.01)
            ticks += 1
        assert not task.done() and ticks >= 10
        holder.execute("COMMIT")
        holder.close()
        assert await asyncio.wait_for(task, 10) == ("a", "乙")
    finally:
        await reads.aclose()
        await db.dispose()
