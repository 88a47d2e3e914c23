"""A lean Redis client for the one command of the merchant API's hot path: EVALSHA of the nonce
claim script (nonces.py), pipelined on one connection.

Why: through redis-py's asyncio client a script call cost ~57 µs of CPU (connection pool,
command objects, the RESP3 parser, retry and tracing wrappers), more than everything else the
verify does in benefits; here it is ~14 µs. Everything else (markers, revocation) still goes
through redis-py, and so does the claim when the URL is not plain TCP (TLS, unix sockets).

Replies come back in the order requests were written (RESP), so each request appends a future to
a queue that replies resolve in turn. Anything unexpected — a reply that cannot be parsed, a
timeout (its reply may still arrive) or a lost connection — closes the connection and fails every
request waiting on it, so a reply can never be matched to the wrong request; the next call
connects again.
"""

from __future__ import annotations

import asyncio
import collections
from typing import Any
from urllib.parse import unquote, urlsplit

_CRLF = b"\r\n"
MAX_REPLY = 1024 * 1024


class RespError(Exception):
    """An error reply from Redis (e.g. NOSCRIPT, NOAUTH, WRONGTYPE)."""


class _Incomplete(Exception):
    pass


def encode(*args: bytes | str | int) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        raw = arg if isinstance(arg, bytes) else str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(raw), raw))
    return b"".join(out)


def parse(buf: bytearray | bytes, pos: int = 0) -> tuple[Any, int]:
    """One RESP2 reply from buf[pos:]: (value, position after it). Raises _Incomplete when more
    bytes are needed, ValueError when the bytes are not RESP."""
    end = buf.find(_CRLF, pos)
    if end < 0:
        if len(buf) - pos > MAX_REPLY:
            raise ValueError("reply line too long")
        raise _Incomplete
    kind, line = buf[pos:pos + 1], bytes(buf[pos + 1:end])
    nxt = end + 2
    if kind == b"+":
        return line.decode("utf-8", "replace"), nxt
    if kind == b"-":
        return RespError(line.decode("utf-8", "replace")), nxt
    if kind == b":":
        return int(line), nxt
    if kind == b"$":
        size = int(line)
        if size == -1:
            return None, nxt
        if not 0 <= size <= MAX_REPLY:
            raise ValueError("bulk reply size")
        if len(buf) < nxt + size + 2:
            raise _Incomplete
        if buf[nxt + size:nxt + size + 2] != _CRLF:
            raise ValueError("bulk reply not terminated")
        return bytes(buf[nxt:nxt + size]), nxt + size + 2
    if kind == b"*":
        count = int(line)
        if count == -1:
            return None, nxt
        if not 0 <= count <= 1024:
            raise ValueError("array reply size")
        items = []
        for _ in range(count):
            item, nxt = parse(buf, nxt)
            items.append(item)
        return items, nxt
    raise ValueError("unknown reply type")


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: Any = None
        self.buf = bytearray()
        self.waiters: collections.deque[asyncio.Future[Any]] = collections.deque()
        self.closed = False

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buf += data
        pos = 0
        try:
            while self.waiters:
                try:
                    value, pos = parse(self.buf, pos)
                except _Incomplete:
                    break
                fut = self.waiters.popleft()
                if not fut.done():
                    fut.set_result(value)
            if pos:
                del self.buf[:pos]
            if not self.waiters and self.buf:
                raise ValueError("reply nobody asked for")
        except ValueError:
            self.fail(ConnectionError("bad reply from Redis"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.fail(ConnectionError("connection to Redis lost"))

    def fail(self, exc: Exception) -> None:
        self.closed = True
        while self.waiters:
            fut = self.waiters.popleft()
            if not fut.done():
                fut.set_exception(exc)
                fut.exception()  # retrieved: its caller may have gone
        if self.transport is not None:
            self.transport.abort()

    def send(self, raw: bytes) -> asyncio.Future[Any]:
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self.closed:
            fut.set_exception(ConnectionError("connection to Redis closed"))
            return fut
        self.waiters.append(fut)
        self.transport.write(raw)
        return fut


class LeanRedis:
    def __init__(self, host: str, port: int, *, db: int = 0, username: str | None = None,
                 password: str | None = None, timeout: float = 2.0) -> None:
        self.host, self.port, self.db = host, port, db
        self._username, self._password = username, password
        self.timeout = timeout
        self._conn: _Connection | None = None
        self._connecting: asyncio.Task[_Connection] | None = None

    @classmethod
    def from_redis(cls, client: Any) -> LeanRedis | None:
        """The same server, database and credentials as a redis-py asyncio client, when it talks
        plain TCP; None otherwise (TLS, unix socket: keep redis-py)."""
        from redis.asyncio.connection import Connection

        pool = client.connection_pool
        if pool.connection_class is not Connection:
            return None
        kw = pool.connection_kwargs
        return cls(kw.get("host", "localhost"), int(kw.get("port", 6379)), db=int(kw.get("db", 0) or 0),
                   username=kw.get("username"), password=kw.get("password"),
                   timeout=float(kw.get("socket_timeout") or 2.0))

    @classmethod
    def from_url(cls, url: str, timeout: float = 2.0) -> LeanRedis | None:
        parts = urlsplit(url)
        if parts.scheme != "redis" or not parts.hostname:
            return None
        db = int(parts.path.lstrip("/") or 0)
        return cls(parts.hostname, parts.port or 6379, db=db, username=unquote(parts.username or "") or None,
                   password=unquote(parts.password) if parts.password else None, timeout=timeout)

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        _, conn = await loop.create_connection(_Connection, self.host, self.port)
        setup = []
        if self._password is not None:
            auth = ("AUTH", self._username, self._password) if self._username else ("AUTH", self._password)
            setup.append(conn.send(encode(*auth)))
        if self.db:
            setup.append(conn.send(encode("SELECT", self.db)))
        try:
            for reply in await asyncio.gather(*setup):
                if isinstance(reply, RespError):
                    raise reply
        except BaseException:
            conn.fail(ConnectionError("Redis refused the connection set-up"))
            raise
        return conn

    async def _connection(self) -> _Connection:
        conn = self._conn
        if conn is not None and not conn.closed:
            return conn
        if self._connecting is None:
            self._connecting = asyncio.ensure_future(self._connect())
        try:
            task = self._connecting
            conn = await asyncio.shield(task)
        finally:
            if self._connecting is not None and self._connecting.done():
                self._connecting = None
        self._conn = conn
        return conn

    async def execute(self, *args: bytes | str | int) -> Any:
        """One command; its reply (an error reply is raised as RespError). Tried once more on a new
        connection when the connection was lost (most often: Redis had closed it while idle, and
        the command was never read), as redis-py does; a nonce claim repeated after all fails
        safe (the nonce reads as used)."""
        try:
            return await self._execute(args)
        except ConnectionError:
            return await self._execute(args)

    async def _execute(self, args: tuple[bytes | str | int, ...]) -> Any:
        async with asyncio.timeout(self.timeout):
            conn = await self._connection()
        fut = conn.send(encode(*args))
        # Not wait_for/timeout on fut itself: if this caller is cancelled (its client went away),
        # fut stays queued, so the reply, when it comes, is consumed in turn and dropped.
        await asyncio.wait((fut,), timeout=self.timeout)
        if not fut.done():  # Redis is not answering: start over on a new connection
            conn.fail(TimeoutError("Redis did not answer in time"))
        reply = fut.result()
        if isinstance(reply, RespError):
            raise reply
        return reply

    async def evalsha(self, sha: str, script: str, keys: list[str], args: list[Any]) -> Any:
        """EVALSHA, loading the script with EVAL when the server does not know it (restart,
        SCRIPT FLUSH)."""
        try:
            return await self.execute("EVALSHA", sha, len(keys), *keys, *args)
        except RespError as exc:
            if not str(exc).startswith("NOSCRIPT"):
                raise
        return await self.execute("EVAL", script, len(keys), *keys, *args)

    async def aclose(self) -> None:
        if self._connecting is not None:
            self._connecting.cancel()
            await asyncio.gather(self._connecting, return_exceptions=True)
            self._connecting = None
        if self._conn is not None:
            self._conn.closed = True
            if self._conn.transport is not None:
                self._conn.transport.close()
            self._conn = None
