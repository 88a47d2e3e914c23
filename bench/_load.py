"""A small HTTP/1.1 load generator, run as its own process (`python -m bench._load SPEC.json`).

Two modes:
- closed loop (`rate` = 0): `connections` keep-alive connections each send the next request as
  soon as the previous answer is in — throughput at saturation (the fallback when wrk is absent);
- open loop (`rate` > 0): requests are due at a fixed rate whatever the server does, sent on up
  to `connections` connections; latency counts from when a request was due, so a server that
  falls behind is charged for the queue (no coordinated omission).

Requests are pre-built bytes (signed merchant requests included), cycled in order; answers are
parsed with httptools. Prints one JSON line: counts by status, throughput, latency percentiles,
and the generator's own CPU use (to check that it is not the bottleneck).
"""

from __future__ import annotations

import asyncio
import base64
import json
import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httptools


@dataclass
class Stats:
    statuses: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    errors: int = 0


class Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: Any = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[int] | None = None
        self.status = 0
        self.closed = False

    def connection_made(self, transport: Any) -> None:  # uvloop's transports are not asyncio.Transport
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self._fail()

    def on_message_complete(self) -> None:
        self.status = self.parser.get_status_code()
        if self.waiter and not self.waiter.done():
            self.waiter.set_result(self.status)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail()

    def _fail(self) -> None:
        if self.waiter and not self.waiter.done():
            self.waiter.set_result(-1)

    async def request(self, raw: bytes) -> int:
        # A keep-alive connection the server closed while idle: writing to it would wait forever
        # (connection_lost has already fired), so report it as a failed request at once.
        if self.closed or self.transport is None or self.transport.is_closing():
            return -1
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(raw)
        return await self.waiter


async def _connect(host: str, port: int) -> Connection:
    """A new connection; protocol-agnostic about the transport (uvloop's TCPTransport is not an
    asyncio.Transport subclass, so nothing here may check for one)."""
    loop = asyncio.get_running_loop()
    _, conn = await loop.create_connection(Connection, host, port)
    return conn


async def _reconnect(host: str, port: int, until: float) -> Connection | None:
    """Connect, retrying briefly on refusals/resets (an overloaded server's backlog is full);
    None when the run is over."""
    delay = 0.01
    while time.perf_counter() < until:
        try:
            return await _connect(host, port)
        except OSError:
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.2)
    return None


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    host, port = spec["host"], int(spec["port"])
    requests = [base64.b64decode(r) for r in spec["requests"]]
    duration, rate, nconn = float(spec["duration"]), float(spec.get("rate", 0)), int(spec["connections"])
    warmup = float(spec.get("warmup", 0.5))
    stats = Stats()
    idx = 0

    def next_request() -> bytes:
        nonlocal idx
        raw = requests[idx % len(requests)]
        idx += 1
        return raw

    async def one(conn: Connection, due: float, record: bool) -> Connection:
        status = await conn.request(next_request())
        if record:
            stats.statuses[status] = stats.statuses.get(status, 0) + 1
            stats.latencies.append(time.perf_counter() - due)
        if status < 0 or conn.closed:
            if record and status < 0:
                stats.errors += 1
            if conn.transport is not None:
                conn.transport.close()
            fresh = await _reconnect(host, port, end + 5)
            if fresh is None:
                raise OSError("cannot reconnect")
            return fresh
        return conn

    start_cpu = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    measure_from = t0 + warmup
    end = measure_from + duration
    if rate <= 0:
        async def worker() -> None:
            conn = await _reconnect(host, port, end)
            while conn is not None:
                now = time.perf_counter()
                if now >= end:
                    conn.transport.close()
                    break
                try:
                    conn = await one(conn, now, now >= measure_from)
                except OSError:
                    stats.errors += 1
                    conn = await _reconnect(host, port, end)

        await asyncio.gather(*(worker() for _ in range(nconn)))
    else:
        idle: list[Connection] = [await _connect(host, port) for _ in range(min(nconn, 64))]
        opened = len(idle)
        slots = asyncio.Semaphore(nconn)
        pending: set[asyncio.Task[None]] = set()

        async def fire(due: float, record: bool) -> None:
            nonlocal opened
            async with slots:
                try:
                    if idle:
                        conn = idle.pop()
                    else:
                        opened += 1
                        conn = await _connect(host, port)
                    conn = await one(conn, due, record)
                except OSError:
                    if record:  # refused or reset: an answer the client never got
                        stats.errors += 1
                        stats.statuses[-1] = stats.statuses.get(-1, 0) + 1
                    return
                idle.append(conn)

        interval = 1.0 / rate
        due = time.perf_counter()
        while due < end:
            now = time.perf_counter()
            if due > now:
                await asyncio.sleep(due - now)
            # Fire every request already due (the loop may wake late under load).
            now = time.perf_counter()
            while due <= now and due < end:
                task = asyncio.create_task(fire(due, due >= measure_from))
                pending.add(task)
                task.add_done_callback(pending.discard)
                due += interval
        if pending:
            await asyncio.wait(pending, timeout=10)
        for conn in idle:
            if conn.transport:
                conn.transport.close()
    elapsed = time.perf_counter() - measure_from
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    cpu_s = (cpu.ru_utime - start_cpu.ru_utime) + (cpu.ru_stime - start_cpu.ru_stime)
    lat = sorted(stats.latencies)

    def pct(p: float) -> float:
        return lat[min(len(lat) - 1, int(len(lat) * p))] * 1000 if lat else float("nan")

    return {"requests": len(lat), "rps": len(lat) / elapsed, "statuses": stats.statuses, "errors": stats.errors,
            "p50_ms": pct(0.5), "p99_ms": pct(0.99), "max_ms": lat[-1] * 1000 if lat else float("nan"),
            "generator_cpu": cpu_s / (time.perf_counter() - t0)}


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    try:
        import uvloop

        result = uvloop.run(run(spec))
    except ImportError:
        result = asyncio.run(run(spec))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
