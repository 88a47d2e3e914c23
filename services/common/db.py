"""One async engine per service, chosen by URL, created in the app lifespan.

The request commits: `get_session` yields a session, commits when the route returned without
error and rolls back otherwise, so a failed request never leaves half a record. Services only
`flush()`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import BackgroundTasks, Depends, Request
from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.types import TypeDecorator

# SQLite: a transaction that may write takes the write lock at BEGIN (IMMEDIATE), so two writers
# queue on busy_timeout instead of one failing when it upgrades a read lock; reads stay deferred
# and run concurrently under WAL. Set per request from the HTTP method.
sqlite_write_intent: ContextVar[bool] = ContextVar("sqlite_write_intent", default=True)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def make_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING_CONVENTION)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on SQLite too (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    if is_sqlite(url):
        engine = create_async_engine(url, pool_size=pool_size, max_overflow=0, pool_timeout=30,
                                     connect_args={"timeout": 30})
        _sqlite_pragmas(engine)
        return engine
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True,
                               pool_timeout=5, connect_args={"timeout": 5})


def _sqlite_pragmas(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _: Any) -> None:
        # aiosqlite opens in Python's legacy transaction mode; we issue BEGIN ourselves so that
        # writers take the lock up front (BEGIN IMMEDIATE) instead of failing on upgrade.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        # Deleted or overwritten rows are zeroed in their page (no extra I/O): erased personal
        # data does not linger in free space of the file (see Database.scrub for the WAL).
        cur.execute("PRAGMA secure_delete=FAST")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if sqlite_write_intent.get() else "BEGIN")


class Database:
    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.engine = create_engine(url, pool_size=pool_size)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def dispose(self) -> None:
        await self.engine.dispose()

    async def scrub(self) -> None:
        """After erasing personal data (account closure): on SQLite, checkpoint the write-ahead log
        into the file and truncate it, so the old page images holding the erased rows are gone
        from disk too. Best effort: while a reader holds an old snapshot the log stays until the
        next full checkpoint. PostgreSQL keeps dead rows until (auto)vacuum; see docs/operations.md."""
        if self.dialect != "sqlite":
            return
        try:
            async with self.engine.connect() as conn:
                raw = (await conn.get_raw_connection()).driver_connection
                assert raw is not None
                await raw.execute("PRAGMA busy_timeout=2000")
                try:
                    await raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                finally:
                    await raw.execute("PRAGMA busy_timeout=30000")
        except Exception:  # best effort; the next scrub or automatic checkpoint gets there
            logging.getLogger("smartunion.db").warning("wal checkpoint failed", exc_info=True)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    db: Database = request.app.state.db
    sqlite_write_intent.set(request.method not in ("GET", "HEAD"))
    async with db.sessionmaker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


async def _scrub_after_response(request: Request, background: BackgroundTasks) -> None:
    background.add_task(request.app.state.db.scrub)


# On a route that erases personal data: Database.scrub() once the response (and so the commit) is done.
ScrubAfterResponse = Depends(_scrub_after_response)


# scope="function": commit before the response is sent, so a failed commit is an error answer,
# never a 2xx for data that was not saved.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
