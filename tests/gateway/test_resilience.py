"""Resilience of the proxy path against a real local upstream that misbehaves on demand: breaker
opens and recovers through a half-open probe, slow upstream → 504 within its budget, no retry of a
POST, fast 503 sheds when too many requests are in flight, body limits."""

from __future__ import annotations

import asyncio
import time

import pytest

from gateway.breaker import CircuitBreaker
from tests.gateway.conftest import GatewayMaker
from tests.gateway.upstream import fake_upstream
from tests.tokens import TokenFactory


class TestBreakerUnit:
    def test_opens_after_consecutive_failures_only(self) -> None:
        breaker = CircuitBreaker(failures=3, open_seconds=10)
        breaker.failure()
        breaker.failure()
        breaker.success()  # a success in between resets the count
        breaker.failure()
        breaker.failure()
        assert breaker.state == "closed" and breaker.allow()
        breaker.failure()
        assert breaker.state == "open" and not breaker.allow()

    def test_half_open_lets_exactly_one_probe_through(self, monkeypatch: pytest.MonkeyPatch) -> None:
        now = [100.0]
        monkeypatch.setattr("gateway.breaker.time.monotonic", lambda: now[0])
        breaker = CircuitBreaker(failures=1, open_seconds=5)
        breaker.failure()
        assert not breaker.allow()
        now[0] += 5
        assert breaker.state == "half_open"
        assert breaker.allow() and not breaker.allow()  # one probe only
        breaker.failure()  # the probe failed: open again for a full period
        assert breaker.state == "open" and not breaker.allow()
        now[0] += 5
        assert breaker.allow()
        breaker.success()
        assert breaker.state == "closed" and breaker.allow() and breaker.allow()


class TestBreakerThroughTheGateway:
    async def test_opens_after_failures_then_recovers_through_a_probe(self, make_gateway: GatewayMaker) -> None:
        async with fake_upstream("fail") as up, \
                make_gateway(upstreams={"jobs": up.url}, breaker_failures=3, breaker_open_seconds=0.5,
                             metrics_token="scrape") as (gw, client):
            codes = [(await client.get("/api/v1/jobs")).status_code for _ in range(3)]
            assert codes == [500, 500, 500]  # the service's own answers pass through
            assert gw.upstreams["jobs"].breaker.state == "open"
            start = time.perf_counter()
            shed = await client.get("/api/v1/jobs")
            assert shed.status_code == 503 and shed.json()["code"] == "upstream_unavailable"
            assert shed.headers["retry-after"] == "1"
            assert time.perf_counter() - start < 0.1
            assert up.count() == 3  # the open breaker kept the 4th request away from the upstream
            metrics = (await client.get("/metrics", headers={"authorization": "Bearer scrape"})).text
            assert 'smartunion_gateway_breaker_open{upstream="jobs"} 1.0' in metrics
            assert (await client.get("/api/v1/legal/tickets")).status_code == 503  # legal is a dead port
            await asyncio.sleep(0.55)
            up.mode = "ok"
            probe = await client.get("/api/v1/jobs")
            assert probe.status_code == 200 and up.count() == 4
            assert gw.upstreams["jobs"].breaker.state == "closed"
            assert [(await client.get("/api/v1/jobs")).status_code for _ in range(3)] == [200] * 3
            metrics = (await client.get("/metrics", headers={"authorization": "Bearer scrape"})).text
            assert 'smartunion_gateway_breaker_open{upstream="jobs"} 0.0' in metrics

    async def test_a_failed_probe_keeps_it_open(self, make_gateway: GatewayMaker) -> None:
        async with fake_upstream("fail") as up, \
                make_gateway(upstreams={"jobs": up.url}, breaker_failures=2, breaker_open_seconds=0.3) as (gw, client):
            for _ in range(2):
                await client.get("/api/v1/jobs")
            await asyncio.sleep(0.35)
            assert (await client.get("/api/v1/jobs")).status_code == 500  # the probe
            assert gw.upstreams["jobs"].breaker.state == "open"
            assert (await client.get("/api/v1/jobs")).status_code == 503
            assert up.count() == 3


class TestNoRetryOfPost:
    async def test_post_reaches_the_upstream_once_when_it_drops_the_connection(
            self, make_gateway: GatewayMaker, tokens: TokenFactory) -> None:
        async with fake_upstream("drop") as up, make_gateway(upstreams={"benefits": up.url}) as (_, client):
            resp = await client.post("/api/v1/merchant/redemptions", json={"qr_token": "x"},
                                     headers={"idempotency-key": "k1"})
            assert resp.status_code == 503 and resp.json()["code"] == "upstream_unavailable"
            assert up.count("POST") == 1
            # Same for a PATCH: only a connection that could not be made at all is ever retried.
            await client.patch("/api/v1/benefits/offers/1", json={})
            assert up.count("PATCH") == 1
            assert up.count() == 2


class TestTimeouts:
    async def test_slow_upstream_answers_504_within_the_route_budget(self, make_gateway: GatewayMaker) -> None:
        async with fake_upstream("slow", delay=3) as up, \
                make_gateway(upstreams={"jobs": up.url}, route_read_timeouts={"jobs": 0.3}) as (_, client):
            start = time.perf_counter()
            resp = await client.get("/api/v1/jobs")
            elapsed = time.perf_counter() - start
        assert resp.status_code == 504 and resp.json()["code"] == "upstream_timeout"
        assert 0.25 < elapsed < 0.8

    async def test_dead_upstream_is_503_fast_and_retried_once_for_get(self, make_gateway: GatewayMaker) -> None:
        async with make_gateway() as (_, client):  # every upstream is a closed port
            start = time.perf_counter()
            resp = await client.get("/api/v1/jobs")
            assert time.perf_counter() - start < 1.0
        assert resp.status_code == 503 and resp.json()["code"] == "upstream_unavailable"


class TestSheddingAndLimits:
    async def test_inflight_cap_sheds_with_fast_503(self, make_gateway: GatewayMaker) -> None:
        async with fake_upstream("slow", delay=0.6) as up, \
                make_gateway(upstreams={"jobs": up.url}, max_inflight_per_upstream=2) as (_, client):
            async def timed() -> tuple[int, float]:
                start = time.perf_counter()
                resp = await client.get("/api/v1/jobs")
                return resp.status_code, time.perf_counter() - start

            results = await asyncio.gather(*(timed() for _ in range(6)))
        served = [t for code, t in results if code == 200]
        shed = [t for code, t in results if code == 503]
        assert len(served) == 2 and len(shed) == 4
        assert max(shed) < 0.3 < min(served)
        assert up.count() == 2

    async def test_oversized_json_body_is_413_before_the_upstream(self, make_gateway: GatewayMaker) -> None:
        async with fake_upstream() as up, make_gateway(upstreams={"jobs": up.url}, max_json_body=1024) as (_, client):
            resp = await client.post("/api/v1/jobs", content=b"x" * 2048, headers={"content-type": "application/json"})
            assert resp.status_code == 413 and resp.json()["code"] == "too_large"

            async def chunks():  # no Content-Length: counted while streaming
                for _ in range(4):
                    yield b"y" * 512

            streamed = await client.post("/api/v1/jobs", content=chunks())
            assert streamed.status_code == 413
            assert (await client.post("/api/v1/jobs", content=b"{}")).status_code == 200
            assert up.count() == 1

    async def test_uploads_get_the_larger_limit(self, make_gateway: GatewayMaker) -> None:
        async with fake_upstream() as up, \
                make_gateway(upstreams={"legal_aid": up.url}, max_json_body=1024) as (_, client):
            body = b"z" * 300 * 1024  # streamed through (over the streaming threshold)
            ok = await client.post("/api/v1/legal/tickets/t1/attachments", content=body,
                                   headers={"content-type": "application/octet-stream"})
            assert ok.status_code == 200 and up.count() == 1
            big = await client.post("/api/v1/legal/tickets/t1/attachments", content=b"z" * (11 * 1024 * 1024))
            assert big.status_code == 413 and up.count() == 1
