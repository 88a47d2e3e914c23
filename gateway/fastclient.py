"""A lean HTTP/1.1 client for the proxy path: keep-alive connections per upstream, requests
written as one buffer, answers parsed by httptools (the C parser uvicorn uses too).

Why not aiohttp here: a profile of the gateway under load showed aiohttp's client (request
objects, URL parsing, multidicts, payload registry, timers) at ~25% of the gateway's CPU; this
does the same job for the proxy's needs — bytes in, bytes out — at a fraction. aiohttp stays for
streamed uploads, /home, /readyz and the OpenAPI fetch, where its features matter and the
request rate is low.

Errors: ConnectFailed (nothing was sent: safe to retry), UpstreamDisconnected (the connection
died after the request was written: never retried for non-idempotent methods) and TimeoutError.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httptools


class ConnectFailed(Exception):
    pass


class UpstreamDisconnected(Exception):
    pass


class _Conn(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: Any = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.idle_since = 0.0
        self._reset()

    def _reset(self) -> None:
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.chunks: list[bytes] = []
        self.streaming: asyncio.Queue[bytes | None] | None = None
        self.keep_alive = False
        self.paused = False
        loop = asyncio.get_running_loop()
        self._headers_ready: asyncio.Future[None] = loop.create_future()
        self._done: asyncio.Future[None] = loop.create_future()

    # -- asyncio.Protocol ---------------------------------------------------------------------
    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(UpstreamDisconnected("upgrade not supported"))
        except httptools.HttpParserError:
            self._fail(UpstreamDisconnected("bad answer"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(UpstreamDisconnected("connection closed"))

    def _fail(self, exc: Exception) -> None:
        self.closed = True
        for fut in (self._headers_ready, self._done):
            if not fut.done():
                fut.set_exception(exc)
                fut.exception()  # mark retrieved: a waiter may already be gone
        if self.streaming is not None:
            self.streaming.put_nowait(None)
        if self.transport is not None:
            self.transport.abort()

    # -- httptools callbacks ------------------------------------------------------------------
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        self.keep_alive = self.parser.should_keep_alive()
        if not self._headers_ready.done():
            self._headers_ready.set_result(None)

    def on_body(self, body: bytes) -> None:
        if self.streaming is not None:
            self.streaming.put_nowait(body)
            if self.streaming.qsize() > 16 and not self.paused:
                self.paused = True
                self.transport.pause_reading()
        else:
            self.chunks.append(body)

    def on_message_complete(self) -> None:
        if self.streaming is not None:
            self.streaming.put_nowait(None)
        if not self._done.done():
            self._done.set_result(None)


async def _wait(fut: asyncio.Future[None], timeout: float) -> None:
    """Await with a deadline, without wait_for's extra task."""
    if fut.done():
        fut.result()
        return
    def expire() -> None:
        if not fut.done():
            fut.set_exception(TimeoutError())

    handle = asyncio.get_running_loop().call_later(timeout, expire)
    try:
        await fut
    finally:
        handle.cancel()


class FastPool:
    """Keep-alive connections to one upstream (host:port). Idle connections older than
    `idle_ttl` are dropped before the server's own keep-alive timeout (uvicorn: 5 s) closes them."""

    def __init__(self, host: str, port: int, *, connect_timeout: float, idle_ttl: float = 4.0,
                 max_idle: int = 256) -> None:
        self.host = host
        self.port = port
        self.host_header = f"{host}:{port}".encode()
        self.connect_timeout = connect_timeout
        self.idle_ttl = idle_ttl
        self.max_idle = max_idle
        self._idle: list[_Conn] = []

    async def _acquire(self) -> tuple[_Conn, bool]:
        now = time.monotonic()
        while self._idle:
            conn = self._idle.pop()
            if not conn.closed and now - conn.idle_since < self.idle_ttl:
                conn._reset()
                return conn, True
            conn.transport.close()
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.connect_timeout):
                _, conn = await loop.create_connection(_Conn, self.host, self.port)
        except (OSError, TimeoutError) as exc:
            raise ConnectFailed(str(exc)) from None
        return conn, False

    def _release(self, conn: _Conn) -> None:
        if conn.closed or not conn.keep_alive or len(self._idle) >= self.max_idle:
            if conn.transport is not None:
                conn.transport.close()
            return
        conn.idle_since = time.monotonic()
        self._idle.append(conn)

    async def request(self, method: str, target: bytes, headers: list[tuple[bytes, bytes]], body: bytes, *,
                      read_timeout: float, on_start: Callable[[int, list[tuple[bytes, bytes]]], Awaitable[None]],
                      on_body: Callable[[bytes, bool], Awaitable[None]], stream_over: int) -> int:
        """Send one request; relay the answer through on_start(status, headers) and
        on_body(chunk, more). Answers up to `stream_over` bytes with a Content-Length are read
        whole and passed in one piece; others are streamed chunk by chunk."""
        conn, reused = await self._acquire()
        parts = [method.encode(), b" ", target, b" HTTP/1.1\r\nhost: ", self.host_header, b"\r\n"]
        for name, value in headers:
            parts += [name, b": ", value, b"\r\n"]
        if body or method in ("POST", "PUT", "PATCH"):
            parts += [b"content-length: ", str(len(body)).encode(), b"\r\n"]
        parts += [b"\r\n", body]
        try:
            conn.transport.write(b"".join(parts))
            await _wait(conn._headers_ready, read_timeout)
        except UpstreamDisconnected:
            if reused and not conn.status:
                # A pooled connection the server had just closed: nothing was processed.
                raise ConnectFailed("stale keep-alive connection") from None
            raise
        except TimeoutError:
            conn._fail(UpstreamDisconnected("timeout"))
            raise
        length = None
        for name, value in conn.headers:
            if name == b"content-length":
                length = int(value)
        if method == "HEAD" or conn._done.done() or (length is not None and length <= stream_over):
            try:
                await _wait(conn._done, read_timeout)
            except TimeoutError:
                conn._fail(UpstreamDisconnected("timeout"))
                raise
            await on_start(conn.status, conn.headers)
            await on_body(b"".join(conn.chunks), False)
            self._release(conn)
            return conn.status
        # Streamed answer: what arrived so far, then chunk by chunk.
        queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        for chunk in conn.chunks:
            queue.put_nowait(chunk)
        conn.chunks = []
        conn.streaming = queue
        await on_start(conn.status, conn.headers)
        while True:
            try:
                async with asyncio.timeout(read_timeout):
                    item = await queue.get()
            except TimeoutError:
                conn._fail(UpstreamDisconnected("timeout"))
                await on_body(b"", False)
                raise
            if conn.paused and queue.qsize() < 4:
                conn.paused = False
                conn.transport.resume_reading()
            if item is None:
                break
            await on_body(item, True)
        await on_body(b"", False)
        if not conn._done.done() or conn._done.exception() is not None:
            raise UpstreamDisconnected("answer cut short")
        self._release(conn)
        return conn.status

    def close(self) -> None:
        for conn in self._idle:
            conn.transport.close()
        self._idle.clear()
