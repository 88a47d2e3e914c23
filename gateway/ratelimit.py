"""Request-rate limits at the door: GCRA (the generic cell rate algorithm, a token bucket kept as
one timestamp per key).

A policy allows `quota` requests per `window` seconds with bursts of up to `quota`: each request
pushes the key's "theoretical arrival time" (TAT) one emission interval (window / quota) ahead;
a request that would push it more than one window past now is refused, and the wait until it
would fit is the Retry-After. One request is checked against several policies at once (client
IP, account, merchant key, the stricter auth policy) and consumes from all of them only when all
allow it, so a refused request never eats another policy's quota.

With REDIS_URL every gateway replica shares the state through one Lua script (one round trip,
atomic, Redis's own clock so replicas' clocks do not matter); without it the state lives in the
process. If Redis stops answering, the gateway limits in-process for a few seconds and tries
again: a broken Redis must not take the whole API down.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

logger = logging.getLogger("smartunion.gateway.ratelimit")


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    quota: int
    window: int  # seconds

    @property
    def interval(self) -> float:
        return self.window / self.quota

    def header(self) -> str:
        return f'"{self.name}";q={self.quota};w={self.window}'


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    policy: Policy  # the most constrained policy (the one that refused, if any)
    remaining: int
    reset: int  # seconds until that policy's quota is whole again
    retry_after: int  # seconds; 0 when allowed

    def headers(self, policies: Sequence[Policy]) -> list[tuple[bytes, bytes]]:
        """IETF draft-ietf-httpapi-ratelimit-headers: RateLimit-Policy lists every policy that
        applied; RateLimit reports the one closest to refusing."""
        return [(b"ratelimit-policy", ", ".join(p.header() for p in policies).encode()),
                (b"ratelimit", f'"{self.policy.name}";r={self.remaining};t={self.reset}'.encode())]


class Limiter(Protocol):
    async def check(self, checks: Sequence[tuple[Policy, str]]) -> Verdict: ...

    async def aclose(self) -> None: ...


def _verdict(results: list[tuple[Policy, bool, int, int, int]]) -> Verdict:
    refused = [r for r in results if not r[1]]
    if refused:
        policy, _, remaining, reset, retry = max(refused, key=lambda r: r[4])
        return Verdict(False, policy, remaining, reset, max(1, retry))
    policy, _, remaining, reset, _ = min(results, key=lambda r: (r[2] / r[0].quota, -r[3]))
    return Verdict(True, policy, remaining, reset, 0)


class MemoryLimiter:
    """GCRA in the process. Keys whose TAT lies in the past hold no information and are swept."""

    def __init__(self, max_keys: int = 200_000) -> None:
        self._tat: dict[str, float] = {}
        self._max_keys = max_keys

    async def check(self, checks: Sequence[tuple[Policy, str]]) -> Verdict:
        return self.check_now(checks, time.monotonic())

    def check_now(self, checks: Sequence[tuple[Policy, str]], now: float) -> Verdict:
        if len(self._tat) > self._max_keys:
            self._tat = {k: v for k, v in self._tat.items() if v > now}
        results = []
        updates = []
        for policy, subject in checks:
            key = f"{policy.name}:{subject}"
            interval = policy.interval
            tat = max(self._tat.get(key, now), now)
            new_tat = tat + interval
            over = new_tat - now - policy.window
            if over > 0:
                results.append((policy, False, 0, math.ceil(tat - now), math.ceil(over)))
            else:
                remaining = int((policy.window - (new_tat - now)) / interval + 1e-9)
                results.append((policy, True, remaining, math.ceil(new_tat - now), 0))
                updates.append((key, new_tat))
        verdict = _verdict(results)
        if verdict.allowed:
            for key, new_tat in updates:
                self._tat[key] = new_tat
        return verdict

    async def aclose(self) -> None:
        return None


# KEYS: one per check. ARGV: interval_ms, window_ms per check. Returns ok, then per check
# allowed, remaining, reset_ms, retry_ms. Writes only when every check allows.
GCRA_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {1}
local news = {}
for i = 1, #KEYS do
  local interval = tonumber(ARGV[2 * i - 1])
  local window = tonumber(ARGV[2 * i])
  local tat = tonumber(redis.call('GET', KEYS[i]) or now)
  if tat < now then tat = now end
  local new_tat = tat + interval
  local over = new_tat - now - window
  if over > 0 then
    out[1] = 0
    table.insert(out, 0); table.insert(out, 0)
    table.insert(out, math.ceil(tat - now)); table.insert(out, math.ceil(over))
  else
    table.insert(out, 1)
    table.insert(out, math.floor((window - (new_tat - now)) / interval + 1e-9))
    table.insert(out, math.ceil(new_tat - now)); table.insert(out, 0)
    news[i] = new_tat
  end
end
if out[1] == 1 then
  for i = 1, #KEYS do
    redis.call('SET', KEYS[i], string.format('%.3f', news[i]), 'PX', math.ceil(news[i] - now) + 1)
  end
end
return out
"""


class RedisLimiter:
    def __init__(self, url: str, prefix: str = "su:gateway:rl", *, fallback_seconds: float = 5.0) -> None:
        # Imported here: redis-py costs ~19 MB of memory per process, paid only when REDIS_URL is set.
        import redis.asyncio as aioredis
        from redis.exceptions import RedisError

        self._errors: tuple[type[BaseException], ...] = (RedisError, OSError)
        self._redis = aioredis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._script: Any = self._redis.register_script(GCRA_LUA)
        self._prefix = prefix
        self._fallback = MemoryLimiter()
        self._fallback_seconds = fallback_seconds
        self._down_until = 0.0

    async def check(self, checks: Sequence[tuple[Policy, str]]) -> Verdict:
        now = time.monotonic()
        if now < self._down_until:
            return self._fallback.check_now(checks, now)
        keys = [f"{self._prefix}:{policy.name}:{key}" for policy, key in checks]
        args: list[float] = []
        for policy, _ in checks:
            args += [policy.interval * 1000, policy.window * 1000]
        try:
            raw = await self._script(keys=keys, args=args)
        except self._errors as exc:
            logger.warning("rate-limit store unavailable (%s); limiting in-process for %ss",
                           type(exc).__name__, self._fallback_seconds)
            self._down_until = now + self._fallback_seconds
            return self._fallback.check_now(checks, now)
        results = []
        for i, (policy, _) in enumerate(checks):
            allowed, remaining, reset_ms, retry_ms = (int(v) for v in raw[1 + 4 * i: 5 + 4 * i])
            results.append((policy, bool(allowed), remaining, math.ceil(reset_ms / 1000), math.ceil(retry_ms / 1000)))
        return _verdict(results)

    async def aclose(self) -> None:
        await self._redis.aclose()


def make_limiter(redis_url: str | None, namespace: str = "su") -> Limiter:
    """Keys under SMARTUNION_REDIS_NAMESPACE like every other key of the deployment: two
    deployments (or test stacks) sharing one Redis must not spend each other's quotas."""
    return RedisLimiter(redis_url, f"{namespace}:gateway:rl") if redis_url else MemoryLimiter()
