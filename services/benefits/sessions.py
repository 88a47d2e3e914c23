"""Short transactions outside the request's session, for the merchant API: the nonce claim, the
idempotency claim and the redemption each commit on their own (see docs/benefits.md)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.db import Database, sqlite_write_intent


@asynccontextmanager
async def transaction(db: Database, *, write: bool) -> AsyncIterator[AsyncSession]:
    """A session whose transaction takes SQLite's write lock up front when it will write (BEGIN
    IMMEDIATE), and reads concurrently under WAL when it will not. The caller commits."""
    token = sqlite_write_intent.set(write)
    try:
        async with db.sessionmaker() as session:
            yield session
    finally:
        sqlite_write_intent.reset(token)


def upsert(session: AsyncSession, table: Any) -> Any:
    """INSERT … ON CONFLICT for the session's dialect (both SQLite and PostgreSQL have it)."""
    dialect = session.get_bind().dialect.name
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
