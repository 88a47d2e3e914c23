"""The proxy path: ASGI request → pooled aiohttp connection to the upstream → ASGI response.

Bodies pass through as bytes (never decoded), large ones are streamed both ways, hop-by-hop
headers are dropped, and every failure becomes a fast problem+json: 503 upstream_unavailable
(connect failure, breaker open, too many requests in flight) or 504 upstream_timeout.
Only idempotent methods are retried, once, and only when the connection could not be made.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import aiohttp
from prometheus_client import Counter, Gauge
from starlette.types import Receive, Scope, Send
from yarl import URL

from gateway.breaker import CircuitBreaker
from gateway.fastclient import ConnectFailed, FastPool, UpstreamDisconnected
from services.common.errors import PROBLEM_JSON, problem_body

UPSTREAM_ERRORS = Counter("smartunion_gateway_upstream_errors_total", "upstream failures", ["upstream", "kind"])
BREAKER_STATE = Gauge("smartunion_gateway_breaker_open", "1 when the upstream's breaker is open", ["upstream"])

HOP_BY_HOP = frozenset({b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization", b"te",
                        b"trailers", b"transfer-encoding", b"upgrade", b"host", b"content-length",
                        b"x-real-ip", b"x-forwarded-for", b"x-request-id"})
RESPONSE_SKIP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length", "server", "date",
                           "x-request-id"})  # the gateway sets its own
# The gateway sets its own X-Request-ID (the same id, passed upstream) and security headers.
RESPONSE_HOP_B = frozenset({b"connection", b"keep-alive", b"transfer-encoding", b"server", b"date",
                            b"x-request-id"})
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
STREAM_THRESHOLD = 256 * 1024
# While the breaker is open because the upstream refused connections, its /healthz is asked at
# most this often (in the background, triggered by the requests being refused).
HEALTH_PROBE_INTERVAL = 0.25


class BodyTooLarge(Exception):
    pass


class Upstream:
    def __init__(self, name: str, base_url: str, *, connect_timeout: float, breaker: CircuitBreaker,
                 max_inflight: int) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.breaker = breaker
        self.max_inflight = max_inflight
        self.inflight = 0
        self._connect_timeout = connect_timeout
        self.session: aiohttp.ClientSession | None = None
        self.pool: FastPool | None = None
        self._unreachable = False  # the last failure was a connection the upstream refused
        self._health_probe: asyncio.Task[None] | None = None
        self._health_probed_at = 0.0

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(limit=self.max_inflight, keepalive_timeout=60, ttl_dns_cache=300)
        self.session = aiohttp.ClientSession(connector=connector, auto_decompress=False, skip_auto_headers=(
            "User-Agent", "Accept-Encoding", "Accept", "Content-Type"))
        url = URL(self.base_url)
        self.pool = FastPool(url.host or "127.0.0.1", url.port or 80, connect_timeout=self._connect_timeout)

    async def close(self) -> None:
        if self._health_probe is not None:
            self._health_probe.cancel()
        if self.pool:
            self.pool.close()
        if self.session:
            await self.session.close()

    async def forward(self, scope: Scope, receive: Receive, send: Send, *, headers: list[tuple[bytes, bytes]],
                      max_body: int, read_timeout: float) -> None:
        if self.inflight >= self.max_inflight:
            UPSTREAM_ERRORS.labels(self.name, "shed").inc()
            await send_problem(send, 503, "upstream_unavailable", f"{self.name} 繁忙，请稍后重试", retry_after=1)
            return
        if not self.breaker.allow():
            BREAKER_STATE.labels(self.name).set(1)
            self._probe_health_soon()
            await send_problem(send, 503, "upstream_unavailable", f"{self.name} 服务暂时不可用", retry_after=1)
            return
        self.inflight += 1
        try:
            await self._forward(scope, receive, send, headers, max_body, read_timeout)
        finally:
            self.inflight -= 1

    async def _forward(self, scope: Scope, receive: Receive, send: Send, headers: list[tuple[bytes, bytes]],
                       max_body: int, read_timeout: float) -> None:
        assert self.session is not None
        method = scope["method"]
        path = scope.get("raw_path") or scope["path"].encode()
        url = self.base_url + path.decode("latin-1")
        if scope.get("query_string"):
            url += "?" + scope["query_string"].decode("latin-1")
        length = _content_length(scope)
        if length is not None and length < 0:
            await send_problem(send, 400, "bad_request", "Content-Length 无效")
            return
        if length is not None and length > max_body:
            await send_problem(send, 413, "too_large", "请求体过大")
            return
        body: bytes | AsyncIterator[bytes]
        try:
            if length is not None and length > STREAM_THRESHOLD:
                body = _stream_body(receive, max_body)
            else:
                body = await _read_body(receive, max_body)
        except BodyTooLarge:
            await send_problem(send, 413, "too_large", "请求体过大")
            return
        if isinstance(body, bytes):
            await self._forward_fast(method, path, scope.get("query_string", b""), headers, body, send,
                                     read_timeout)
            return
        out_headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers]
        if length is not None:
            out_headers.append(("content-length", str(length)))
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=self._connect_timeout, sock_read=read_timeout)
        attempts = 2 if method in IDEMPOTENT and isinstance(body, bytes) else 1
        for attempt in range(attempts):
            try:
                async with self.session.request(method, url, data=body, headers=out_headers, timeout=timeout,
                                                allow_redirects=False) as resp:
                    await self._relay(resp, send)
                    if resp.status >= 500 and resp.status != 503:
                        self._failed("status")
                    else:
                        self.breaker.success()
                        BREAKER_STATE.labels(self.name).set(0)
                    return
            except (aiohttp.ClientConnectorError, aiohttp.ServerDisconnectedError) as exc:
                connect_failure = isinstance(exc, aiohttp.ClientConnectorError)
                if attempt + 1 < attempts and connect_failure:
                    continue
                self._failed("connect")
                await send_problem(send, 503, "upstream_unavailable", f"{self.name} 服务暂时不可用", retry_after=1)
                return
            except (TimeoutError, aiohttp.ServerTimeoutError):
                self._failed("timeout")
                await send_problem(send, 504, "upstream_timeout", f"{self.name} 服务响应超时")
                return
            except BodyTooLarge:
                await send_problem(send, 413, "too_large", "请求体过大")
                return
            except aiohttp.ClientError:
                self._failed("protocol")
                await send_problem(send, 503, "upstream_unavailable", f"{self.name} 服务暂时不可用", retry_after=1)
                return

    async def _forward_fast(self, method: str, path: bytes, query: bytes, headers: list[tuple[bytes, bytes]],
                            body: bytes, send: Send, read_timeout: float) -> None:
        assert self.pool is not None
        target = path + b"?" + query if query else path
        started = False

        async def on_start(status: int, upstream_headers: list[tuple[bytes, bytes]]) -> None:
            nonlocal started
            started = True
            # Content-Length is kept (it is exact: the body passes through unchanged); framing
            # headers of the upstream hop are not.
            out = [(k, v) for k, v in upstream_headers if k not in RESPONSE_HOP_B]
            await send({"type": "http.response.start", "status": status, "headers": out})

        async def on_body(chunk: bytes, more: bool) -> None:
            await send({"type": "http.response.body", "body": chunk, "more_body": more})

        attempts = 2 if method in IDEMPOTENT else 1
        for attempt in range(attempts):
            try:
                status = await self.pool.request(method, target, headers, body, read_timeout=read_timeout,
                                                 on_start=on_start, on_body=on_body,
                                                 stream_over=STREAM_THRESHOLD)
            except ConnectFailed:
                if attempt + 1 < attempts:
                    continue
                self._failed("connect")
                await send_problem(send, 503, "upstream_unavailable", f"{self.name} 服务暂时不可用", retry_after=1)
                return
            except UpstreamDisconnected:
                self._failed("disconnect")
                if not started:
                    await send_problem(send, 503, "upstream_unavailable", f"{self.name} 服务暂时不可用",
                                       retry_after=1)
                return
            except TimeoutError:
                self._failed("timeout")
                if not started:
                    await send_problem(send, 504, "upstream_timeout", f"{self.name} 服务响应超时")
                return
            if status >= 500 and status != 503:
                self._failed("status")
            elif self.breaker.consecutive_failures or self.breaker.opened_at is not None:
                self.breaker.success()
                BREAKER_STATE.labels(self.name).set(0)
            return

    def _probe_health_soon(self) -> None:
        """A process that died and was restarted would otherwise wait out the rest of the open
        period (up to 5 s after it is ready) and then one user request, slow on a cold process,
        before traffic flows again. So while the breaker is open because connections were
        refused, the upstream's /healthz is asked in the background; its first 200 closes the
        breaker. A hung or failing upstream (timeouts, 5xx) keeps the plain cool-down: it accepts
        connections, and only a real request tells whether it answers again."""
        if not self._unreachable or self._health_probe is not None or self.session is None:
            return
        now = time.monotonic()
        if now - self._health_probed_at < HEALTH_PROBE_INTERVAL:
            return
        self._health_probed_at = now
        self._health_probe = asyncio.get_running_loop().create_task(self._probe_health())

    async def _probe_health(self) -> None:
        assert self.session is not None
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=self._connect_timeout, sock_read=1.0)
        try:
            with contextlib.suppress(aiohttp.ClientError, TimeoutError, OSError):
                async with self.session.get(self.base_url + "/healthz", timeout=timeout) as resp:
                    if resp.status == 200 and self.breaker.opened_at is not None:
                        self._unreachable = False
                        self.breaker.success()
                        BREAKER_STATE.labels(self.name).set(0)
        finally:
            self._health_probe = None

    def _failed(self, kind: str) -> None:
        UPSTREAM_ERRORS.labels(self.name, kind).inc()
        self._unreachable = kind == "connect"
        self.breaker.failure()
        if self.breaker.state != "closed":
            BREAKER_STATE.labels(self.name).set(1)

    async def _relay(self, resp: aiohttp.ClientResponse, send: Send) -> None:
        headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in resp.headers.items()
                   if k.lower() not in RESPONSE_SKIP]
        length = resp.headers.get("content-length")
        if length is not None and int(length) <= STREAM_THRESHOLD:
            # Small answers: read whole, send once, with an exact length (keeps clients' keep-alive).
            data = await resp.read()
            headers.append((b"content-length", str(len(data)).encode()))
            await send({"type": "http.response.start", "status": resp.status, "headers": headers})
            await send({"type": "http.response.body", "body": data})
            return
        if length is not None:
            headers.append((b"content-length", length.encode()))
        await send({"type": "http.response.start", "status": resp.status, "headers": headers})
        async for chunk in resp.content.iter_chunked(64 * 1024):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return -1
    return None


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise asyncio.CancelledError
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def _stream_body(receive: Receive, limit: int) -> AsyncIterator[bytes]:
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise asyncio.CancelledError
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        if chunk:
            yield chunk
        if not message.get("more_body"):
            return


async def send_problem(send: Send, status: int, code: str, detail: str, *, retry_after: int | None = None,
                       extra_headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = problem_body(status, code, detail)
    headers = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode())]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    headers.extend(extra_headers or [])
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
