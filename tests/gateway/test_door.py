"""The token check at the door: a request with a forged, malformed or expired token never reaches
a service; one without a token passes (the service decides if it needs one)."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.common.auth import AUDIENCE, ISSUER
from tests.gateway.conftest import GatewayMaker
from tests.gateway.upstream import fake_upstream
from tests.tokens import TokenFactory


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(**overrides: object) -> dict:
    now = int(time.time())
    return {"iss": ISSUER, "aud": AUDIENCE, "sub": "acc1", "iat": now, "exp": now + 600, "typ": "access",
            "roles": ["admin"], **overrides}


def forged(tokens: TokenFactory) -> dict[str, str]:
    good = tokens.token("acc1")
    head, body, sig = good.split(".")
    flipped = sig[:-2] + ("A" if sig[-2] != "A" else "B") + sig[-1]
    other_key = Ed25519PrivateKey.generate()
    return {
        "alg_none": f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': tokens.kid})}.{_b64(_claims())}.",
        "alg_hs256_with_public_key": jwt.encode(_claims(), "s" * 40, algorithm="HS256", headers={"kid": tokens.kid}),
        "altered_signature": f"{head}.{body}.{flipped}",
        "altered_claims": f"{head}.{_b64(_claims(roles=['admin'], sub='acc2'))}.{sig}",
        "other_key_same_kid": jwt.encode(_claims(), other_key, algorithm="EdDSA", headers={"kid": tokens.kid}),
        "expired": tokens.token("acc1", ttl=-60),
        "garbage": "not-a-jwt",
        "refresh_type": jwt.encode(_claims(typ="refresh"), tokens._key, algorithm="EdDSA",
                                   headers={"kid": tokens.kid}),
    }


CASES = ["alg_none", "alg_hs256_with_public_key", "altered_signature", "altered_claims", "other_key_same_kid",
         "expired", "garbage", "refresh_type"]


@pytest.mark.parametrize("case", CASES)
async def test_forged_tokens_are_401_at_the_door(make_gateway: GatewayMaker, tokens: TokenFactory,
                                                 case: str) -> None:
    async with fake_upstream() as up, make_gateway(upstreams={"identity": up.url}) as (_, client):
        resp = await client.get("/api/v1/me", headers={"authorization": f"Bearer {forged(tokens)[case]}"})
        assert resp.status_code == 401
        assert resp.headers["content-type"] == "application/problem+json"
        assert resp.json()["code"] == "unauthenticated"
        assert up.count() == 0  # never reached the service


@pytest.mark.parametrize("value", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer    ", "token abc"])
async def test_malformed_authorization_header_is_401(make_gateway: GatewayMaker, value: str) -> None:
    async with fake_upstream() as up, make_gateway(upstreams={"identity": up.url}) as (_, client):
        resp = await client.get("/api/v1/me", headers={"authorization": value})
        assert resp.status_code == 401 and up.count() == 0


async def test_valid_token_and_anonymous_requests_pass(make_gateway: GatewayMaker, tokens: TokenFactory) -> None:
    async with fake_upstream() as up, make_gateway(upstreams={"identity": up.url}) as (_, client):
        ok = await client.get("/api/v1/me", headers=tokens.headers("acc1"))
        assert ok.status_code == 200 and ok.headers["x-request-id"]
        assert (await client.post("/api/v1/auth/sms/send", json={"phone": "13800000000"})).status_code == 200
        assert up.count() == 2


async def test_home_needs_a_token(make_gateway: GatewayMaker) -> None:
    async with make_gateway() as (_, client):
        resp = await client.get("/api/v1/home")
        assert resp.status_code == 401 and resp.json()["code"] == "unauthenticated"


async def test_unknown_paths_and_internal_are_404(make_gateway: GatewayMaker) -> None:
    async with fake_upstream() as up, make_gateway(upstreams={n: up.url for n in ("identity", "jobs")}) as (_, c):
        for path in ("/internal/events", "/api/v1/internal/x", "/api/v2/jobs", "/openapi.json", "/docs"):
            assert (await c.get(path)).status_code == 404, path
        assert up.count() == 0


async def test_a_cached_token_dies_with_its_account_and_its_expiry(make_gateway: GatewayMaker,
                                                                   tokens: TokenFactory) -> None:
    import asyncio

    async with fake_upstream() as up, make_gateway(upstreams={"identity": up.url}) as (gw, client):
        headers = tokens.headers("acc-revoked")
        assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
        assert (await client.get("/api/v1/me", headers=headers)).status_code == 200  # from the cache
        assert gw.verifier is not None
        gw.verifier.revoke("acc-revoked", time.time() + 1)
        assert (await client.get("/api/v1/me", headers=headers)).status_code == 401
        short = tokens.headers("acc-short", ttl=1)
        assert (await client.get("/api/v1/me", headers=short)).status_code == 200
        await asyncio.sleep(1.1)
        assert (await client.get("/api/v1/me", headers=short)).status_code == 401
        assert up.count() == 3
