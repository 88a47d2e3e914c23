"""GET /api/v1/home: the app's first screen in one call. Four parts fetched concurrently, each
with its own budget; a part that fails or is late is empty and named in `degraded`."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import orjson

from gateway.proxy import Upstream


async def _get_json(upstream: Upstream, path: str, headers: dict[str, str], timeout: float) -> tuple[int, Any]:
    assert upstream.session is not None
    if not upstream.breaker.allow():
        raise ConnectionError("breaker open")
    try:
        async with upstream.session.get(upstream.base_url + path, headers=headers,
                                        timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
            data = await resp.read()
    except (aiohttp.ClientError, TimeoutError):
        upstream.breaker.failure()
        raise
    if resp.status >= 500:
        upstream.breaker.failure()
        raise ConnectionError(f"status {resp.status}")
    upstream.breaker.success()
    return resp.status, orjson.loads(data) if data else None


async def build_home(upstreams: dict[str, Upstream], headers: dict[str, str], timeout: float) -> dict[str, Any]:
    async def member() -> Any:
        status, body = await _get_json(upstreams["membership"], "/api/v1/membership/me", headers, timeout)
        return body if status == 200 else None

    async def tickets() -> Any:
        status, body = await _get_json(upstreams["legal_aid"], "/api/v1/legal/tickets?limit=100", headers, timeout)
        if status != 200:
            raise ConnectionError(f"status {status}")
        return sum(1 for t in body["items"] if t.get("status") not in ("resolved", "closed", "rejected"))

    async def offers() -> Any:
        status, body = await _get_json(upstreams["benefits"], "/api/v1/benefits/offers?limit=5", headers, timeout)
        if status != 200:
            raise ConnectionError(f"status {status}")
        return body["items"][:5]

    async def jobs() -> Any:
        status, body = await _get_json(upstreams["jobs"], "/api/v1/jobs?limit=5", headers, timeout)
        if status != 200:
            raise ConnectionError(f"status {status}")
        return body["items"][:5]

    parts: dict[str, tuple[Any, Any]] = {"membership": (member, None), "legal_aid": (tickets, 0),
                                         "benefits": (offers, []), "jobs": (jobs, [])}
    results = await asyncio.gather(*(asyncio.wait_for(fn(), timeout) for fn, _ in parts.values()),
                                   return_exceptions=True)
    answer: dict[str, Any] = {}
    degraded = []
    for (name, (_, empty)), result in zip(parts.items(), results, strict=True):
        if isinstance(result, BaseException):
            degraded.append(name)
            result = empty
        answer[name] = result
    return {"member": answer["membership"], "open_tickets": answer["legal_aid"], "offers": answer["benefits"],
            "jobs": answer["jobs"], "degraded": degraded}
