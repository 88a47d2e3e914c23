"""Single-use nonces within the signature window, claimed in the same step that checks the key is
still live. Default: the database (every replica of this service shares it); with REDIS_URL:
Redis. The in-process memory store is never used here, because it would let a replay through on
another process.

Why the revocation check lives here: the key's merchant and secret never change (rotation issues a
new key id), so each process caches them (auth.KeyCache); the one mutable fact, revocation, must
hold on the very next request on every replica. Checking it in the shared store as part of the
nonce claim costs nothing extra on the hot path and needs no cache invalidation:

- database: `INSERT INTO used_nonces … SELECT … WHERE EXISTS (live key) ON CONFLICT …` — the
  revocation (an UPDATE of merchant_keys in the same database) and the claim serialise on the
  database like any two statements;
- Redis: a Lua script reads the key's state marker (`live` / `revoked`) and sets the nonce in one
  round trip. Revocation writes `revoked` before the database commits; a replica that finds no
  marker (first use, or Redis lost its data) reads the database and fills `live` with SET NX, so a
  fill racing a revocation can never overwrite `revoked`.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import random
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from services.benefits.merchant_api import repository
from services.benefits.merchant_api.resp import LeanRedis
from services.common.db import Database, sqlite_write_intent, utcnow

if TYPE_CHECKING:
    from redis.asyncio import Redis

SWEEP_PROBABILITY = 0.002  # keep the nonce table at about one window of traffic
logger = logging.getLogger("smartunion.benefits.nonces")
UPKEEP_EVERY = 500  # SQLite claims on the loop between two sweeps + checkpoints (≈ 1 / SWEEP_PROBABILITY)
KEY_STATE_TTL = 86_400  # markers are refilled from the database when they expire


class Claim(enum.Enum):
    CLAIMED = "claimed"
    REUSED = "reused"
    REVOKED = "revoked"  # the key was revoked (or deleted): unknown_merchant_key


class NonceStore(Protocol):
    async def claim(self, key_id: str, nonce: str, ttl: int) -> Claim:
        """CLAIMED the first time (key_id, nonce) is seen within ttl seconds while the key is live."""
        ...

    async def mark_revoked(self, key_id: str) -> None:
        """Called before a revocation commits (Redis: the shared marker; database: nothing to do)."""
        ...

    async def aclose(self) -> None: ...


class DatabaseNonceStore:
    """PostgreSQL: one autocommit statement. SQLite: a dedicated connection on its own thread that
    writes every claim waiting at that moment in one transaction (group commit). SQLite has one
    writer at a time; a transaction per claim through the pool (BEGIN IMMEDIATE, INSERT, COMMIT,
    each a thread hop) queued behind the write lock and collapsed throughput under concurrency."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._sqlite = _SqliteClaims(str(db.engine.url.database)) if db.dialect == "sqlite" else None

    async def claim(self, key_id: str, nonce: str, ttl: int) -> Claim:
        now = utcnow()
        expires_at = now + timedelta(seconds=ttl)
        if self._sqlite is not None:
            claimed = await self._sqlite.claim(key_id, nonce, now, expires_at)
        else:
            async with self._db.engine.connect() as conn:
                auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
                claimed = await repository.claim_nonce_if_live(auto, key_id=key_id, nonce=nonce, now=now,
                                                               expires_at=expires_at)
                if random.random() < SWEEP_PROBABILITY:
                    await repository.sweep_nonces_core(auto, now)
        if claimed:
            return Claim.CLAIMED
        # Nothing inserted: the key is gone or revoked, or the nonce was seen (rare paths).
        return Claim.REUSED if await key_is_live(self._db, key_id) else Claim.REVOKED

    async def mark_revoked(self, key_id: str) -> None:
        return None

    async def aclose(self) -> None:
        if self._sqlite is not None:
            await self._sqlite.aclose()


async def key_is_live(db: Database, key_id: str) -> bool:
    token = sqlite_write_intent.set(False)  # a read: no write lock on SQLite
    try:
        async with db.engine.connect() as conn:
            return await repository.key_is_live(conn, key_id)
    finally:
        sqlite_write_intent.reset(token)


class _SqliteClaims:
    """A claim is first tried on the event loop's own sqlite3 connection, without waiting: BEGIN
    IMMEDIATE with busy_timeout 0, the claim, COMMIT (WAL, synchronous=NORMAL: an append to the
    log, no fsync; ~17 µs). The hop to a thread cost more than the write itself (~30 µs of the
    writer thread per claim, plus the future and the wake-up on the loop). When the write lock is
    taken at that moment (another process, the ORM, a batch in flight) the claim goes to the
    thread: group commit on one sqlite3 connection owned by one thread, where claims arriving while
    a batch is being written wait for the next batch (one BEGIN IMMEDIATE … COMMIT each). The loop
    never waits for a lock and never checkpoints (wal_autocheckpoint=0 on its connection): every
    UPKEEP_EVERY inline claims the thread sweeps expired nonces and checkpoints the log."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="benefits-nonces")
        self._local = threading.local()
        self._pending: list[tuple[tuple[str, str, str, str], asyncio.Future[bool]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._loop_conn: sqlite3.Connection | None = None
        self._since_upkeep = 0
        self._upkeep: asyncio.Future[None] | None = None

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=True)
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    async def claim(self, key_id: str, nonce: str, now: datetime, expires_at: datetime) -> bool:
        item = (key_id, nonce, _sqlite_time(now), _sqlite_time(expires_at))
        if self._writer is None:  # no batch in flight (it would hold the write lock)
            claimed = self._claim_inline(item)
            if claimed is not None:
                return claimed
        fut: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append((item, fut))
        if self._writer is None:
            self._writer = asyncio.create_task(self._drain())
        return await fut

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    results = await loop.run_in_executor(self._executor, self._write, [item for item, _ in batch])
                except Exception as exc:  # the database refused: every waiter gets the error
                    for _, fut in batch:
                        if not fut.done():
                            fut.set_exception(exc)
                    continue
                for (_, fut), claimed in zip(batch, results, strict=True):
                    if not fut.done():
                        fut.set_result(claimed)
        finally:
            self._writer = None

    def _claim_inline(self, item: tuple[str, str, str, str]) -> bool | None:
        """The claim on the loop's connection; None when the write lock is not free right now."""
        conn = self._loop_conn
        if conn is None:
            conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=True)
            conn.execute("PRAGMA busy_timeout=0")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA wal_autocheckpoint=0")
            self._loop_conn = conn
        key_id, nonce, now, expires_at = item
        try:
            conn.execute("BEGIN IMMEDIATE")
            claimed: bool = conn.execute(repository.CLAIM_NONCE_IF_LIVE_SQL, {
                "key_id": key_id, "nonce": nonce, "now": now, "expires_at": expires_at}).rowcount == 1
            conn.execute("COMMIT")
        except sqlite3.OperationalError:  # busy (or worse: the thread's attempt will say what)
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            return None
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        self._since_upkeep += 1
        if self._since_upkeep >= UPKEEP_EVERY and self._upkeep is None:
            self._since_upkeep = 0
            self._upkeep = asyncio.get_running_loop().run_in_executor(self._executor, self._sweep_and_checkpoint, now)
            self._upkeep.add_done_callback(self._upkeep_done)
        return claimed

    def _upkeep_done(self, fut: asyncio.Future[None]) -> None:
        self._upkeep = None
        if not fut.cancelled() and fut.exception() is not None:  # retried after the next UPKEEP_EVERY claims
            logger.warning("nonce upkeep failed: %s", type(fut.exception()).__name__)

    def _sweep_and_checkpoint(self, now: str) -> None:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(repository.SWEEP_NONCES_SQL, {"now": now})
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def _write(self, items: list[tuple[str, str, str, str]]) -> list[bool]:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            results = [conn.execute(repository.CLAIM_NONCE_IF_LIVE_SQL,
                                    {"key_id": k, "nonce": n, "now": now, "expires_at": exp}).rowcount == 1
                       for k, n, now, exp in items]
            if random.random() < SWEEP_PROBABILITY * len(items):
                conn.execute(repository.SWEEP_NONCES_SQL, {"now": items[0][2]})
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return results

    async def aclose(self) -> None:
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)
        if self._upkeep is not None:
            await asyncio.gather(self._upkeep, return_exceptions=True)
        if self._loop_conn is not None:
            self._loop_conn.close()
            self._loop_conn = None

        def close() -> None:
            conn = getattr(self._local, "conn", None)
            if conn is not None:
                conn.close()
                self._local.conn = None

        await asyncio.get_running_loop().run_in_executor(self._executor, close)
        self._executor.shutdown(wait=False)


def _sqlite_time(value: datetime) -> str:
    """The text form SQLAlchemy stores UtcDateTime in on SQLite (naive UTC), so that comparisons
    with rows written through the ORM stay correct."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


# Returns 1 claimed, 0 nonce seen, -1 key not live, 2 no marker (fill it from the database).
_CLAIM_LUA = """
local state = redis.call('GET', KEYS[1])
if not state then return 2 end
if state ~= 'live' then return -1 end
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[1]) then return 1 end
return 0
"""


class RedisNonceStore:
    def __init__(self, redis: Redis, db: Database, prefix: str = "su:benefits") -> None:
        self._redis = redis
        self._db = db
        self._prefix = prefix
        self._script: Any = redis.register_script(_CLAIM_LUA)
        # The claim itself over a lean pipelined connection (resp.py): ~14 µs instead of ~57 µs
        # of CPU through redis-py. Same server, database and credentials; redis-py otherwise.
        self._lean = LeanRedis.from_redis(redis)
        self._sha: str = self._script.sha  # redis-py computed the SHA1 Redis names the script by

    async def _run_claim(self, keys: list[str], ttl: int) -> int:
        if self._lean is not None:
            try:
                return int(await self._lean.evalsha(self._sha, _CLAIM_LUA, keys, [ttl]))
            except (OSError, TimeoutError) as exc:  # as redis-py would say it: 503, see errors.py
                from redis.exceptions import ConnectionError as RedisConnectionError

                raise RedisConnectionError(f"nonce claim: {type(exc).__name__}") from exc
        return int(await self._script(keys=keys, args=[ttl]))

    def _state_key(self, key_id: str) -> str:
        return f"{self._prefix}:mkey:{key_id}"

    async def claim(self, key_id: str, nonce: str, ttl: int) -> Claim:
        keys = [self._state_key(key_id), f"{self._prefix}:once:nonce:{key_id}:{nonce}"]
        for _ in range(3):
            outcome = await self._run_claim(keys, ttl)
            if outcome == 1:
                return Claim.CLAIMED
            if outcome == 0:
                return Claim.REUSED
            if outcome == -1:
                return Claim.REVOKED
            # No marker: the database decides; NX so that a concurrent `revoked` always wins.
            live = await key_is_live(self._db, key_id)
            await self._redis.set(keys[0], b"live" if live else b"revoked", nx=True, ex=KEY_STATE_TTL)
        return Claim.REVOKED  # the marker keeps vanishing: refuse rather than guess

    async def mark_revoked(self, key_id: str) -> None:
        await self._redis.set(self._state_key(key_id), b"revoked", ex=KEY_STATE_TTL)

    async def aclose(self) -> None:
        if self._lean is not None:
            await self._lean.aclose()
