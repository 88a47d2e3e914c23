"""The Redis Streams transport against the real Redis: every subscribing service sees every event,
its replicas share them, a failed or abandoned entry is delivered again, and an entry that can
never be delivered is set aside instead of blocking the stream."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from services.common import streams


@pytest.fixture
async def redis(redis_test_url: str) -> AsyncIterator[Any]:
    client = streams.connect(redis_test_url)
    yield client
    await client.aclose()


@pytest.fixture
async def namespace(redis: Any) -> AsyncIterator[str]:
    ns = f"t{uuid.uuid4().hex[:12]}"
    yield ns
    keys = [key async for key in redis.scan_iter(match=f"{ns}:*")]
    if keys:
        await redis.delete(*keys)


def events(n: int, topic: str = "account.closed") -> list[dict[str, Any]]:
    return [{"id": uuid.uuid4().hex, "topic": topic, "payload": {"account_id": f"acc-{i}", "名": "张三"}}
            for i in range(n)]


class Recorder:
    """A receiving service: records what it got; answers with `results` in turn (True = 200)."""

    def __init__(self, *results: bool) -> None:
        self.got: list[tuple[str, dict[str, Any]]] = []
        self._results = list(results)

    async def __call__(self, producer: str, event: dict[str, Any]) -> bool:
        self.got.append((producer, event))
        return self._results.pop(0) if self._results else True

    @property
    def ids(self) -> list[str]:
        return [event["id"] for _, event in self.got]


def consumer(redis: Any, namespace: str, group: str, deliver: Recorder, **kw: Any) -> streams.StreamConsumer:
    return streams.StreamConsumer(redis, namespace=namespace, group=group, sources=["identity"], deliver=deliver,
                                  block_ms=50, **kw)


async def drain(*consumers: streams.StreamConsumer) -> None:
    while sum([await c.consume_once() for c in consumers]):
        pass


async def pending(redis: Any, namespace: str, group: str) -> int:
    return int((await redis.xpending(streams.stream_key(namespace, "identity"), group))["pending"])


async def test_every_group_gets_every_event_in_order_and_replicas_share_the_work(redis: Any, namespace: str) -> None:
    replica_a, replica_b, jobs = Recorder(), Recorder(), Recorder()
    consumers = [consumer(redis, namespace, "membership", replica_a),
                 consumer(redis, namespace, "membership", replica_b), consumer(redis, namespace, "jobs", jobs)]
    for c in consumers:
        await c.ensure_groups()
    sent = events(40)
    publisher = streams.StreamPublisher(redis, namespace, "identity", maxlen=10_000)
    assert await publisher.publish(sent[:20]) == [e["id"] for e in sent[:20]]
    await drain(consumers[0])  # replica A takes the first batch alone
    await publisher.publish(sent[20:])
    await asyncio.gather(consumers[1].consume_once(), consumers[0].consume_once(), consumers[2].consume_once())
    await drain(*consumers)

    every = [e["id"] for e in sent]
    assert jobs.ids == every  # each group: every event, in order
    assert sorted(replica_a.ids + replica_b.ids) == sorted(every)  # the replicas of a group: each once
    assert replica_b.ids and replica_a.ids
    assert {p for p, _ in jobs.got} == {"identity"}  # the stream says who produced it
    assert jobs.got[0][1] == sent[0]  # payloads survive the trip (Chinese text included)
    assert await pending(redis, namespace, "membership") == 0 == await pending(redis, namespace, "jobs")


async def test_a_service_deployed_later_still_reads_from_the_beginning(redis: Any, namespace: str) -> None:
    sent = events(3)
    await streams.StreamPublisher(redis, namespace, "identity", maxlen=10_000).publish(sent)
    late = Recorder()
    await drain(consumer(redis, namespace, "legal_aid", late))
    assert late.ids == [e["id"] for e in sent]


async def test_a_refused_event_stays_pending_and_is_delivered_again(redis: Any, namespace: str) -> None:
    receiver = Recorder(False)  # the first attempt fails (the service's database was down, say)
    c = consumer(redis, namespace, "membership", receiver, claim_idle_ms=0)
    await c.ensure_groups()
    [event] = events(1)
    await streams.StreamPublisher(redis, namespace, "identity", maxlen=10_000).publish([event])
    assert await c.consume_once() == 0
    assert await pending(redis, namespace, "membership") == 1
    assert await c.consume_once() == 0  # new entries only: the refused one waits for a claim
    assert await c.reclaim() == 1
    assert receiver.ids == [event["id"], event["id"]]
    assert await pending(redis, namespace, "membership") == 0


async def test_entries_of_a_crashed_replica_are_taken_over_once_idle(redis: Any, namespace: str) -> None:
    crashed, survivor = Recorder(False, False), Recorder()
    a = consumer(redis, namespace, "membership", crashed, claim_idle_ms=300)
    b = consumer(redis, namespace, "membership", survivor, claim_idle_ms=300)
    await a.ensure_groups()
    sent = events(2)
    await streams.StreamPublisher(redis, namespace, "identity", maxlen=10_000).publish(sent)
    await a.consume_once()  # read, never acknowledged: the replica died with them
    assert await b.reclaim() == 0  # not idle long enough: A may still be working on them
    await asyncio.sleep(0.4)
    assert await b.reclaim() == 2
    assert survivor.ids == [e["id"] for e in sent]
    assert await pending(redis, namespace, "membership") == 0


async def test_an_event_that_keeps_failing_is_dead_lettered_not_retried_forever(redis: Any, namespace: str) -> None:
    receiver = Recorder(False, False, False, False)
    c = consumer(redis, namespace, "jobs", receiver, claim_idle_ms=0, max_attempts=3)
    await c.ensure_groups()
    poison, good = events(2)
    await streams.StreamPublisher(redis, namespace, "identity", maxlen=10_000).publish([poison])
    await c.consume_once()
    await c.reclaim()
    await c.reclaim()  # delivered 3 times now
    await c.reclaim()  # → dead letter, acknowledged
    assert receiver.ids == [poison["id"]] * 3
    assert await pending(redis, namespace, "jobs") == 0
    dead = await redis.xrange(streams.dead_letter_key(namespace))
    assert len(dead) == 1 and dead[0][1][b"id"].decode() == poison["id"] and dead[0][1][b"group"] == b"jobs"
    # The stream moves on.
    await streams.StreamPublisher(redis, namespace, "identity", maxlen=10_000).publish([good])
    await drain(c)
    assert receiver.ids[-1] == good["id"]


async def test_a_malformed_entry_is_set_aside(redis: Any, namespace: str) -> None:
    receiver = Recorder()
    c = consumer(redis, namespace, "benefits", receiver)
    await c.ensure_groups()
    key = streams.stream_key(namespace, "identity")
    await redis.xadd(key, {"id": "x1", "topic": "account.closed", "payload": "not json"})
    await redis.xadd(key, {"something": "else"})
    [event] = events(1)
    await streams.StreamPublisher(redis, namespace, "identity", maxlen=10_000).publish([event])
    await drain(c)
    assert receiver.ids == [event["id"]]
    assert len(await redis.xrange(streams.dead_letter_key(namespace))) == 2
    assert await pending(redis, namespace, "benefits") == 0


async def test_a_receiver_that_raises_does_not_stop_the_consumer(redis: Any, namespace: str) -> None:
    calls: list[str] = []

    async def explode_once(producer: str, event: dict[str, Any]) -> bool:
        calls.append(event["id"])
        if len(calls) == 1:
            raise RuntimeError("handler bug")
        return True

    c = streams.StreamConsumer(redis, namespace=namespace, group="identity", sources=["identity"],
                               deliver=explode_once, block_ms=50, claim_idle_ms=0)
    await c.ensure_groups()
    first, second = events(2)
    await streams.StreamPublisher(redis, namespace, "identity", maxlen=10_000).publish([first, second])
    assert await c.consume_once() == 1  # the second went through
    assert await c.reclaim() == 1  # the first, again
    assert calls == [first["id"], second["id"], first["id"]]
