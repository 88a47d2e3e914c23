"""A tiny HTTP/1.1 upstream on a free local port that counts what reaches it and misbehaves on
demand (drops the connection, answers slowly, fails with 500), for resilience tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field


@dataclass
class FakeUpstream:
    mode: str = "ok"  # ok | drop | slow | fail
    delay: float = 0.0
    hits: list[tuple[str, str]] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def count(self, method: str | None = None) -> int:
        return sum(1 for m, _ in self.hits if method is None or m == method)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                length = 0
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                if length:
                    await reader.readexactly(length)
                self.hits.append((method, path))
                if self.mode == "drop":
                    writer.transport.abort()
                    return
                if self.mode == "slow":
                    await asyncio.sleep(self.delay)
                status = b"500 Internal Server Error" if self.mode == "fail" else b"200 OK"
                body = b'{"status":"ok"}'
                writer.write(b"HTTP/1.1 " + status + b"\r\ncontent-type: application/json\r\ncontent-length: "
                             + str(len(body)).encode() + b"\r\n\r\n" + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()


@asynccontextmanager
async def fake_upstream(mode: str = "ok", delay: float = 0.0) -> AsyncIterator[FakeUpstream]:
    upstream = FakeUpstream(mode=mode, delay=delay)
    server = await asyncio.start_server(upstream.handle, "127.0.0.1", 0)
    upstream.port = server.sockets[0].getsockname()[1]
    try:
        yield upstream
    finally:
        server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 1)
