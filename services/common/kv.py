"""Counters and single-use keys: in-process by default, Redis when REDIS_URL is set so that
every replica shares them (rate limits, nonces, replay caches)."""

from __future__ import annotations

import time
from typing import Protocol


class KeyValueStore(Protocol):
    async def hit(self, key: str, limit: int, window: int) -> tuple[bool, int]:
        """Count one event in a fixed window; (allowed, seconds until the window resets)."""
        ...

    async def set_once(self, key: str, ttl: int) -> bool:
        """True the first time a key is set within its ttl, False on every repeat."""
        ...

    async def aclose(self) -> None: ...


class MemoryStore:
    def __init__(self) -> None:
        self._windows: dict[str, tuple[float, int]] = {}
        self._once: dict[str, float] = {}

    def _sweep(self, now: float) -> None:
        if len(self._windows) + len(self._once) > 100_000:
            self._windows = {k: v for k, v in self._windows.items() if v[0] > now}
            self._once = {k: v for k, v in self._once.items() if v > now}

    async def hit(self, key: str, limit: int, window: int) -> tuple[bool, int]:
        now = time.monotonic()
        self._sweep(now)
        reset, count = self._windows.get(key, (now + window, 0))
        if reset <= now:
            reset, count = now + window, 0
        count += 1
        self._windows[key] = (reset, count)
        return count <= limit, max(1, int(reset - now + 0.999))

    async def set_once(self, key: str, ttl: int) -> bool:
        now = time.monotonic()
        self._sweep(now)
        expires = self._once.get(key)
        if expires and expires > now:
            return False
        self._once[key] = now + ttl
        return True

    async def aclose(self) -> None:
        return None


class RedisStore:
    def __init__(self, url: str, prefix: str) -> None:
        # Imported here: redis-py costs ~19 MB of memory per process, paid only when REDIS_URL is set.
        import redis.asyncio as aioredis

        self._redis = aioredis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._prefix = prefix

    async def hit(self, key: str, limit: int, window: int) -> tuple[bool, int]:
        k = f"{self._prefix}:rl:{key}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(k)
            pipe.expire(k, window, nx=True)
            pipe.ttl(k)
            count, _, ttl = await pipe.execute()
        return int(count) <= limit, max(1, int(ttl))

    async def set_once(self, key: str, ttl: int) -> bool:
        return bool(await self._redis.set(f"{self._prefix}:once:{key}", b"1", nx=True, ex=ttl))

    async def aclose(self) -> None:
        await self._redis.aclose()


def make_store(redis_url: str | None, prefix: str) -> KeyValueStore:
    return RedisStore(redis_url, prefix) if redis_url else MemoryStore()
