"""Events over Redis Streams (production; `SMARTUNION_EVENTS_TRANSPORT`, see config.py).

Each producer appends its outbox rows to one stream, `<namespace>:events:<producer>`; each
subscribing service reads it through its own consumer group (the group is the service's name, so
every service sees every event once, and its replicas share the work). A consumer hands an entry
to its own service's `POST /internal/events` in-process — the same code path, checks and
idempotency as the HTTP push of the laptop default — and acknowledges it (XACK) only after a 200.
An entry left unacknowledged by a crashed or failing replica is claimed again after
`claim_idle_ms`; after `max_attempts` deliveries it moves to `<namespace>:events:dead` (kept for
an operator, see docs/operations.md) so that one poisonous event cannot block the stream.

Delivery is at least once: the relay may append an event twice (it crashed between XADD and
marking the row delivered), and a claimed entry may have been handled already. Every receiver
dedupes on the event id.

Whoever can write to these streams can send events in any producer's name: Redis must be
reachable by the services only (password/ACL in production, docs/operations.md)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from services.common.tasks import cancel

logger = logging.getLogger("smartunion.events")

Deliver = Callable[[str, dict[str, Any]], Awaitable[bool]]


def stream_key(namespace: str, producer: str) -> str:
    return f"{namespace}:events:{producer}"


def dead_letter_key(namespace: str) -> str:
    return f"{namespace}:events:dead"


def connect(url: str) -> Any:
    """A client for streams: its socket timeout must outlast the blocking read."""
    import redis.asyncio as aioredis  # imported only when Redis is configured (memory, see kv.py)

    return aioredis.from_url(url, socket_timeout=15, socket_connect_timeout=2)


class StreamPublisher:
    """The outbox relay's transport in production: every pending row becomes one stream entry."""

    def __init__(self, redis: Any, namespace: str, producer: str, *, maxlen: int) -> None:
        self._redis = redis
        self._key = stream_key(namespace, producer)
        self._maxlen = maxlen

    async def publish(self, events: Sequence[dict[str, Any]]) -> list[str]:
        """Append all, in order, in one round trip; all are delivered or (on an error) none is
        marked so, and the next pass appends them again (receivers dedupe)."""
        if not events:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for event in events:
                # MAXLEN ~: Redis trims whole macro-nodes, cheaply; size it for the longest
                # outage of a subscriber you want to survive (docs/operations.md).
                pipe.xadd(self._key, {"id": event["id"], "topic": event["topic"],
                                      "payload": json.dumps(event["payload"], ensure_ascii=False)},
                          maxlen=self._maxlen, approximate=True)
            await pipe.execute()
        return [event["id"] for event in events]


class StreamConsumer:
    def __init__(self, redis: Any, *, namespace: str, group: str, sources: Sequence[str], deliver: Deliver,
                 block_ms: int = 2000, claim_idle_ms: int = 30_000, max_attempts: int = 20,
                 batch: int = 100) -> None:
        self._redis = redis
        self._namespace = namespace
        self._group = group
        self._streams = {stream_key(namespace, source): source for source in sources}
        self._deliver = deliver
        self._block_ms = block_ms
        self._claim_idle_ms = claim_idle_ms
        self._max_attempts = max_attempts
        self._batch = batch
        self.consumer = f"{socket.gethostname()}-{os.getpid()}-{id(self):x}"
        self._task: asyncio.Task[None] | None = None
        self._groups_ready = False

    async def ensure_groups(self) -> None:
        """Create this service's group on every source stream, reading from the beginning: a
        service deployed after events were appended still receives them."""
        from redis.exceptions import ResponseError

        for key in self._streams:
            try:
                await self._redis.xgroup_create(key, self._group, id="0", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise
        self._groups_ready = True

    async def consume_once(self, block_ms: int | None = None) -> int:
        """Read new entries (waiting up to `block_ms`), deliver and acknowledge them; returns how
        many were acknowledged."""
        if not self._groups_ready:
            await self.ensure_groups()
        answer = await self._redis.xreadgroup(self._group, self.consumer, {key: ">" for key in self._streams},
                                              count=self._batch, block=self._block_ms if block_ms is None else block_ms)
        done = 0
        for key, entries in answer or []:
            key = key.decode() if isinstance(key, bytes) else key
            done += await self._handle(key, entries)
        return done

    async def reclaim(self) -> int:
        """Take over entries another consumer (a crashed replica, or this one after a failed
        delivery) has held longer than `claim_idle_ms`; dead-letter those that failed too often."""
        if not self._groups_ready:
            await self.ensure_groups()
        done = 0
        for key in self._streams:
            pending = await self._redis.xpending_range(key, self._group, min="-", max="+", count=self._batch,
                                                       idle=self._claim_idle_ms)
            if not pending:
                continue
            hopeless = [p["message_id"] for p in pending if p["times_delivered"] >= self._max_attempts]
            retry = [p["message_id"] for p in pending if p["times_delivered"] < self._max_attempts]
            if hopeless:
                await self._dead_letter(key, hopeless)
            if retry:
                claimed = await self._redis.xclaim(key, self._group, self.consumer, self._claim_idle_ms, retry)
                done += await self._handle(key, [entry for entry in claimed if entry and entry[1]])
        return done

    async def _handle(self, key: str, entries: Sequence[tuple[Any, dict[bytes, bytes]]]) -> int:
        producer = self._streams[key]
        acked = 0
        for message_id, fields in entries:
            event = _decode(fields)
            if event is None:  # not an event of ours: nothing will ever make it deliverable
                logger.warning("malformed stream entry", extra={"fields": {"stream": key}})
                await self._dead_letter(key, [message_id])
                continue
            try:
                ok = await self._deliver(producer, event)
            except Exception:  # the receiver crashed on it: keep it pending, it is claimed again later
                logger.warning("event delivery failed", exc_info=True,
                               extra={"fields": {"stream": key, "topic": event["topic"]}})
                ok = False
            if ok:
                await self._redis.xack(key, self._group, message_id)
                acked += 1
        return acked

    async def _dead_letter(self, key: str, message_ids: Sequence[Any]) -> None:
        for message_id in message_ids:
            entries = await self._redis.xrange(key, min=message_id, max=message_id)
            fields = entries[0][1] if entries else {}
            await self._redis.xadd(dead_letter_key(self._namespace),
                                   {**fields, "stream": key, "group": self._group, "entry": message_id})
            await self._redis.xack(key, self._group, message_id)
            logger.error("event dead-lettered", extra={"fields": {"stream": key, "group": self._group}})

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop())

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        next_claim = 0.0
        failures = 0
        while True:
            try:
                if loop.time() >= next_claim:
                    await self.reclaim()
                    next_claim = loop.time() + self._claim_idle_ms / 2000
                await self.consume_once()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis restarting or unreachable: retry, never kill the consumer
                failures += 1
                # The whole trace once; then one line per attempt, backing off to 5 s.
                logger.warning("event stream read failed: %s", type(exc).__name__, exc_info=failures == 1)
                self._groups_ready = False  # a restarted Redis without persistence lost them
                await asyncio.sleep(min(5.0, 0.5 * failures))

    async def stop(self) -> None:
        await cancel(self._task)
        self._task = None


def _decode(fields: dict[Any, Any]) -> dict[str, Any] | None:
    text = {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
            for k, v in fields.items()}
    try:
        payload = json.loads(text["payload"])
        event_id, topic = text["id"], text["topic"]
    except (KeyError, ValueError):
        return None
    if not isinstance(payload, dict) or not event_id or not topic:
        return None
    return {"id": event_id, "topic": topic, "payload": payload}
