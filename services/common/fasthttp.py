"""A lean HTTP/1.1 keep-alive client for service-to-service calls: the request written as one
buffer, the answer parsed by httptools (the C parser uvicorn already loads), whole answers only
(internal APIs answer small JSON documents).

Why not httpx or aiohttp: httpx's pool is slow under concurrency (DESIGN.md); aiohttp's client was
~20% of the benefits service's CPU on the merchant verify path (request objects, URL parsing,
multidicts, timers) and adds ~6 MB of memory to every service process. This does the job the
services need at a fraction of both — the same approach as the gateway's proxy client.

Errors: `ConnectFailed` (nothing was sent), `Disconnected` (the connection died after the request
was written) and `TimeoutError`. A pooled connection that the server closed while idle is replaced
transparently (the request had not been read).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httptools

MAX_ANSWER = 16 * 1024 * 1024


class ConnectFailed(ConnectionError):
    pass


class Disconnected(ConnectionError):
    pass


class _Conn(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: Any = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.idle_since = 0.0
        self.reset()

    def reset(self) -> None:
        self.status = 0
        self.headers: dict[str, str] = {}
        self.chunks: list[bytes] = []
        self.size = 0
        self.keep_alive = False
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    # asyncio.Protocol
    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.fail(Disconnected("bad answer"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.fail(Disconnected("connection closed"))

    def fail(self, exc: Exception) -> None:
        self.closed = True
        if not self.done.done():
            self.done.set_exception(exc)
            self.done.exception()  # retrieved: the waiter may be gone
        if self.transport is not None:
            self.transport.abort()

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        self.keep_alive = self.parser.should_keep_alive()

    def on_body(self, body: bytes) -> None:
        self.size += len(body)
        if self.size > MAX_ANSWER:
            self.fail(Disconnected("answer too large"))
            return
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        if not self.done.done():
            self.done.set_result(None)


class Pool:
    """Keep-alive connections to one service (host:port). Idle connections are dropped after
    `idle_ttl`, before the server's own keep-alive timeout (uvicorn: 5 s) closes them."""

    def __init__(self, host: str, port: int, *, connect_timeout: float = 1.0, idle_ttl: float = 4.0,
                 max_idle: int = 64) -> None:
        self.host = host
        self.port = port
        self._host_header = f"{host}:{port}".encode()
        self.connect_timeout = connect_timeout
        self.idle_ttl = idle_ttl
        self.max_idle = max_idle
        self._idle: list[_Conn] = []

    def _pooled(self) -> _Conn | None:
        now = time.monotonic()
        while self._idle:
            conn = self._idle.pop()
            if not conn.closed and now - conn.idle_since < self.idle_ttl:
                conn.reset()
                return conn
            conn.transport.close()
        return None

    async def _connect(self) -> _Conn:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.connect_timeout):
                _, conn = await loop.create_connection(_Conn, self.host, self.port)
        except (OSError, TimeoutError) as exc:
            raise ConnectFailed(type(exc).__name__) from None
        return conn

    def _release(self, conn: _Conn) -> None:
        if conn.closed or not conn.keep_alive or len(self._idle) >= self.max_idle:
            conn.transport.close()
            return
        conn.idle_since = time.monotonic()
        self._idle.append(conn)

    async def request(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes = b"", *,
                      timeout: float) -> tuple[int, dict[str, str], bytes]:
        """One request; (status, lower-cased headers, body). `target` is the path and query."""
        parts = [f"{method} {target} HTTP/1.1\r\nhost: ".encode("latin-1"), self._host_header, b"\r\n"]
        for name, value in headers:
            parts.append(f"{name}: {value}\r\n".encode("latin-1"))
        if body or method in ("POST", "PUT", "PATCH"):
            parts.append(b"content-length: %d\r\n" % len(body))
        parts += [b"\r\n", body]
        raw = b"".join(parts)
        async with asyncio.timeout(timeout):
            conn = self._pooled()
            if conn is not None:
                try:
                    return await self._exchange(conn, raw)
                except Disconnected:
                    if conn.status or conn.chunks:
                        raise
                    # The server had closed this idle connection: it never read the request.
            return await self._exchange(await self._connect(), raw)

    async def _exchange(self, conn: _Conn, raw: bytes) -> tuple[int, dict[str, str], bytes]:
        if conn.closed:
            raise Disconnected("connection closed")
        conn.transport.write(raw)
        try:
            await conn.done
        except asyncio.CancelledError:  # timed out (or the caller went away): the answer is unusable
            conn.fail(Disconnected("abandoned"))
            raise
        answer = conn.status, conn.headers, b"".join(conn.chunks)
        self._release(conn)
        return answer

    def close(self) -> None:
        for conn in self._idle:
            conn.transport.close()
        self._idle.clear()
