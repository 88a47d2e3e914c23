"""One-statement reads for hot internal paths, without an ORM session.

Through SQLAlchemy's async session on aiosqlite a single indexed SELECT cost ~0.9 ms of CPU
(session, transaction events, a thread hop for BEGIN, execute, fetch and COMMIT each), through a
Core connection ~0.36 ms; the same statement on a plain sqlite3 connection in a worker thread
costs ~0.03 ms with one thread hop, and ~0.007 ms run directly on the event loop. So on SQLite a
`FastReads` compiles the statement once and runs it on its own read-only connection, in autocommit
mode (every SELECT sees the latest committed data, as a fresh read transaction would), directly
on the loop: a point lookup on a local file is shorter than the hop to a thread. A WAL reader
does not wait for writers; in the rare moments SQLite answers "busy" (WAL recovery, a checkpoint
restarting the log) the inline connection does not wait (busy_timeout 0) and the read is retried
in a worker thread that may wait. On PostgreSQL it runs the statement on a Core connection of the
service's engine.

Values come back as the driver returns them, without SQLAlchemy's result types: on SQLite a
UtcDateTime column is its stored text. Use it for plain columns and presence tests, and keep the
statement itself in the domain's repository.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy.sql.expression import ClauseElement, Executable

from services.common.db import Database, sqlite_write_intent


class FastReads:
    def __init__(self, db: Database, *, threads: int = 2) -> None:
        self._db = db
        self._sqlite_path = str(db.engine.url.database) if db.dialect == "sqlite" else None
        self._executor: ThreadPoolExecutor | None = None
        if self._sqlite_path is not None:
            self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="fastreads")
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._inline: sqlite3.Connection | None = None
        self._compiled: dict[int, tuple[ClauseElement, str, tuple[str, ...]]] = {}

    def _connect(self, busy_ms: int) -> sqlite3.Connection:
        conn = sqlite3.connect(self._sqlite_path or "", isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout={busy_ms}")
        conn.execute("PRAGMA query_only=ON")
        self._connections.append(conn)
        return conn

    def _thread_conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect(30_000)
        return conn

    def _compile(self, stmt: ClauseElement) -> tuple[str, tuple[str, ...]]:
        hit = self._compiled.get(id(stmt))
        if hit is None or hit[0] is not stmt:
            compiled = stmt.compile(dialect=self._db.engine.dialect)
            hit = (stmt, compiled.string, tuple(getattr(compiled, "positiontup", None) or ()))
            self._compiled[id(stmt)] = hit
        return hit[1], hit[2]

    async def first(self, stmt: ClauseElement, params: dict[str, Any]) -> tuple[Any, ...] | None:
        """The first row of `stmt` (a statement built once, with bindparam()s named in params)."""
        if self._executor is None:
            token = sqlite_write_intent.set(False)
            try:
                async with self._db.engine.connect() as conn:
                    assert isinstance(stmt, Executable)
                    row = (await conn.execute(stmt, params)).first()
            finally:
                sqlite_write_intent.reset(token)
            return tuple(row) if row is not None else None
        sql, names = self._compile(stmt)
        args = tuple(params[name] for name in names)
        if self._inline is None:
            self._inline = self._connect(0)
        try:
            hit: tuple[Any, ...] | None = self._inline.execute(sql, args).fetchone()
            return hit
        except sqlite3.OperationalError:  # busy: wait for it in a thread, not on the loop
            pass

        def run() -> tuple[Any, ...] | None:
            found: tuple[Any, ...] | None = self._thread_conn().execute(sql, args).fetchone()
            return found

        return await asyncio.get_running_loop().run_in_executor(self._executor, run)

    async def aclose(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            for conn in self._connections:
                conn.close()
            self._connections.clear()
            self._inline = None
