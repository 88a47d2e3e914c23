"""Rate limits at the door: GCRA per IP / account / merchant key, stricter on /auth, shared
through Redis between gateway replicas, 429 rate_limited with Retry-After and IETF headers."""

from __future__ import annotations

import uuid

import pytest

from gateway.ratelimit import MemoryLimiter, Policy, RedisLimiter
from tests.gateway.conftest import GatewayMaker, random_ip
from tests.tokens import TokenFactory


class TestGcra:
    def test_burst_up_to_quota_then_refused_with_wait(self) -> None:
        limiter = MemoryLimiter()
        policy = Policy("ip", 10, 60)  # one every 6 s, bursts of 10
        verdicts = [limiter.check_now([(policy, "a")], 1000.0) for _ in range(11)]
        assert [v.allowed for v in verdicts] == [True] * 10 + [False]
        assert [v.remaining for v in verdicts[:10]] == list(range(9, -1, -1))
        assert verdicts[10].retry_after == 6
        # After one emission interval exactly one more fits.
        assert limiter.check_now([(policy, "a")], 1006.0).allowed
        assert not limiter.check_now([(policy, "a")], 1006.0).allowed
        # Other keys are independent.
        assert limiter.check_now([(policy, "b")], 1006.0).allowed

    def test_refusal_by_one_policy_consumes_nothing_from_the_others(self) -> None:
        limiter = MemoryLimiter()
        strict, loose = Policy("auth", 2, 60), Policy("ip", 100, 60)
        for _ in range(2):
            assert limiter.check_now([(loose, "ip"), (strict, "ip")], 0.0).allowed
        refused = limiter.check_now([(loose, "ip"), (strict, "ip")], 0.0)
        assert not refused.allowed and refused.policy.name == "auth"
        assert limiter.check_now([(loose, "ip")], 0.0).remaining == 97  # 100 - 2 - this one

    def test_verdict_reports_the_tightest_policy(self) -> None:
        limiter = MemoryLimiter()
        verdict = limiter.check_now([(Policy("ip", 100, 60), "x"), (Policy("account", 5, 60), "y")], 0.0)
        assert verdict.policy.name == "account" and verdict.remaining == 4
        headers = dict(verdict.headers([Policy("ip", 100, 60), Policy("account", 5, 60)]))
        assert headers[b"ratelimit-policy"] == b'"ip";q=100;w=60, "account";q=5;w=60'
        assert headers[b"ratelimit"] == b'"account";r=4;t=12'


class TestAtTheDoor:
    async def test_ip_limit_429_problem_with_headers(self, make_gateway: GatewayMaker) -> None:
        async with make_gateway(rate_limit_ip=5, rate_limit_window=60) as (_, client):
            answers = [await client.get("/api/v1/nothing-here") for _ in range(6)]
        assert [r.status_code for r in answers] == [404] * 5 + [429]
        assert answers[0].headers["ratelimit-policy"] == '"ip";q=5;w=60'
        assert answers[0].headers["ratelimit"] == '"ip";r=4;t=12'
        refused = answers[5]
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["code"] == "rate_limited" and refused.json()["status"] == 429
        assert refused.headers["retry-after"] == "12"
        assert refused.headers["ratelimit"] == '"ip";r=0;t=60'
        assert refused.headers["x-request-id"]

    async def test_scale_multiplies_every_quota(self, make_gateway: GatewayMaker) -> None:
        async with make_gateway(rate_limit_ip=5, rate_limit_scale=2.0) as (_, client):
            codes = [(await client.get("/api/v1/nothing-here")).status_code for _ in range(11)]
        assert codes == [404] * 10 + [429]

    async def test_auth_routes_are_stricter(self, make_gateway: GatewayMaker) -> None:
        async with make_gateway(rate_limit_ip=100, rate_limit_auth_ip=3) as (_, client):
            # identity is down here (503), which still counts: the limit is on attempts.
            codes = [(await client.post("/api/v1/auth/sms/send", json={})).status_code for _ in range(4)]
            assert codes == [503, 503, 503, 429]
            assert (await client.get("/api/v1/nothing-here")).status_code == 404  # other routes fine

    async def test_per_account_limit_follows_the_token_not_the_ip(self, make_gateway: GatewayMaker,
                                                                  tokens: TokenFactory) -> None:
        alice, bob = tokens.headers("alice"), tokens.headers("bob")
        async with make_gateway(rate_limit_ip=100, rate_limit_account=3) as (_, client):
            codes = [(await client.get("/api/v1/nothing-here", headers=alice)).status_code for _ in range(4)]
            assert codes == [404, 404, 404, 429]
            refused = await client.get("/api/v1/nothing-here", headers=alice)
            assert refused.headers["ratelimit"].startswith('"account";r=0')
            assert (await client.get("/api/v1/nothing-here", headers=bob)).status_code == 404

    async def test_per_merchant_key(self, make_gateway: GatewayMaker) -> None:
        async with make_gateway(rate_limit_ip=100, rate_limit_merchant=2) as (_, client):
            key = {"x-merchant-key": "mk_" + uuid.uuid4().hex}
            codes = [(await client.get("/api/v1/nothing-here", headers=key)).status_code for _ in range(3)]
            assert codes == [404, 404, 429]
            other = {"x-merchant-key": "mk_" + uuid.uuid4().hex}
            assert (await client.get("/api/v1/nothing-here", headers=other)).status_code == 404

    async def test_forged_tokens_count_against_the_ip(self, make_gateway: GatewayMaker) -> None:
        async with make_gateway(rate_limit_ip=3) as (_, client):
            bad = {"authorization": "Bearer not.a.token"}
            codes = [(await client.get("/api/v1/me", headers=bad)).status_code for _ in range(4)]
        assert codes == [401, 401, 401, 429]

    async def test_rejections_are_counted_in_metrics(self, make_gateway: GatewayMaker) -> None:
        async with make_gateway(rate_limit_ip=1, metrics_token="scrape") as (_, client):
            await client.get("/api/v1/nothing-here")
            await client.get("/api/v1/nothing-here")
            metrics = (await client.get("/metrics", headers={"authorization": "Bearer scrape"})).text
        assert 'smartunion_gateway_rate_limited_total{policy="ip"}' in metrics


class TestSharedInRedis:
    async def test_two_gateways_share_one_budget(self, make_gateway: GatewayMaker, redis_test_url: str) -> None:
        ip = random_ip()
        async with make_gateway(redis_url=redis_test_url, rate_limit_ip=6, client_ip=ip) as (_, one), \
                make_gateway(redis_url=redis_test_url, rate_limit_ip=6, client_ip=ip) as (_, two):
            codes = []
            for i in range(8):
                client = one if i % 2 == 0 else two
                codes.append((await client.get("/api/v1/nothing-here")).status_code)
            refused = await two.get("/api/v1/nothing-here")
        assert codes == [404] * 6 + [429, 429]
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) == 10
        assert refused.headers["ratelimit-policy"] == '"ip";q=6;w=60'

    async def test_redis_script_matches_the_in_process_algorithm(self, redis_test_url: str) -> None:
        limiter = RedisLimiter(redis_test_url)
        policy, key = Policy("ip", 4, 60), uuid.uuid4().hex
        try:
            verdicts = [await limiter.check([(policy, key)]) for _ in range(5)]
        finally:
            await limiter.aclose()
        assert [v.allowed for v in verdicts] == [True] * 4 + [False]
        assert [v.remaining for v in verdicts[:4]] == [3, 2, 1, 0]
        assert verdicts[4].retry_after == 15

    async def test_redis_down_limits_in_process_instead_of_failing(self) -> None:
        limiter = RedisLimiter("redis://127.0.0.1:1/0")
        try:
            verdicts = [await limiter.check([(Policy("ip", 2, 60), "k")]) for _ in range(3)]
        finally:
            await limiter.aclose()
        assert [v.allowed for v in verdicts] == [True, True, False]


@pytest.mark.parametrize("path", ["/healthz", "/metrics"])
async def test_operational_routes_are_not_limited(make_gateway: GatewayMaker, path: str) -> None:
    async with make_gateway(rate_limit_ip=1, metrics_token="scrape") as (_, client):
        codes = {(await client.get(path, headers={"authorization": "Bearer scrape"})).status_code for _ in range(3)}
    assert codes == {200}
