"""API8:2023 Security misconfiguration — CORS allow-list, security headers on every answer, docs
off in production, no server banners with versions, no stack traces, no TRACE."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from services.common.config import SERVICE_NAMES
from services.membership.config import MembershipSettings
from services.membership.main import create_app as create_membership
from tests.apps import running
from tests.gateway.conftest import running_gateway
from tests.security.world import APP_ORIGIN, World
from tests.tokens import TokenFactory

EVIL = "https://evil.example"


def _preflight(origin: str) -> dict[str, str]:
    return {"origin": origin, "access-control-request-method": "POST",
            "access-control-request-headers": "authorization, content-type"}


def test_cors_preflight_only_for_listed_origins(world: World) -> None:
    resp = world.gw.options("/api/v1/legal/tickets", headers=_preflight(EVIL))
    assert "access-control-allow-origin" not in resp.headers
    assert resp.status_code == 403
    resp = world.gw.options("/api/v1/legal/tickets", headers=_preflight(APP_ORIGIN))
    assert resp.status_code == 204 and resp.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "authorization" in resp.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in resp.headers  # bearer tokens, never cookies
    # Simple requests: the answer only names a listed origin.
    evil = world.call("GET", "/api/v1/jobs", role="member", headers={"origin": EVIL})
    assert evil.status_code == 200 and "access-control-allow-origin" not in evil.headers
    good = world.call("GET", "/api/v1/jobs", role="member", headers={"origin": APP_ORIGIN})
    assert good.headers["access-control-allow-origin"] == APP_ORIGIN and "Origin" in good.headers["vary"]
    # A prefix or a "null" origin is not the listed origin.
    for origin in (APP_ORIGIN + ".evil.example", "null", APP_ORIGIN.replace("https", "http")):
        resp = world.gw.options("/api/v1/jobs", headers=_preflight(origin))
        assert "access-control-allow-origin" not in resp.headers, origin


async def test_no_origin_is_allowed_by_default(tokens: TokenFactory) -> None:
    async with running_gateway(tokens) as (_, client):
        resp = await client.options("/api/v1/jobs", headers=_preflight(APP_ORIGIN))
        assert resp.status_code == 403 and "access-control-allow-origin" not in resp.headers


def test_security_headers_on_every_kind_of_answer(world: World) -> None:
    answers = [world.call("GET", "/api/v1/jobs", role="member"),  # proxied 200
               world.gw.get("/api/v1/jobs"),  # 401 at the door
               world.call("GET", "/api/v1/legal/tickets/" + "0" * 32, role="member"),  # service 404
               world.gw.get("/nothing"),  # gateway 404
               world.call("GET", "/api/v1/home", role="member"),  # gateway's own
               world.gw.get("/healthz")]
    for resp in answers:
        assert resp.headers["x-content-type-options"] == "nosniff", resp.url
        assert resp.headers["x-frame-options"] == "DENY"
        assert resp.headers["referrer-policy"] == "no-referrer"
        assert resp.headers["x-request-id"]
        server = resp.headers.get("server", "")
        assert not any(ch.isdigit() for ch in server), f"server banner with a version: {server}"
        assert "python" not in server.lower() and "x-powered-by" not in resp.headers


def test_errors_carry_no_stack_traces(world: World) -> None:
    bad = [world.gw.post("/api/v1/legal/tickets", headers={**world.headers["member"], "content-type":
                                                           "application/json"}, content=b"{not json"),
           world.call("POST", "/api/v1/legal/tickets", role="member", json={"category": ["x"] * 3}),
           world.call("GET", "/api/v1/legal/tickets?limit=abc", role="member"),
           world.call("GET", "/api/v1/jobs?cursor=%00%ff", role="member")]
    for resp in bad:
        assert 400 <= resp.status_code < 500, resp.text
        assert resp.headers["content-type"].startswith("application/problem+json")
        assert "Traceback" not in resp.text and "File \"" not in resp.text and "sqlalchemy" not in resp.text.lower()


def test_trace_is_not_echoed(world: World) -> None:
    resp = world.gw.request("TRACE", "/api/v1/jobs", headers={**world.headers["member"], "x-secret": "echo-me"})
    assert resp.status_code in (404, 405) and "echo-me" not in resp.text


def test_gateway_docs_off_in_production() -> None:
    from gateway.config import GatewaySettings

    prod = {"SMARTUNION_ENV": "production", "SMARTUNION_INTERNAL_SECRET": "p" * 40,
            "SMARTUNION_PII_KEYS": "k1:" + "A" * 43 + "="}
    assert GatewaySettings(**prod).docs_on is False
    assert GatewaySettings().docs_on is True
    with pytest.raises(ValueError):
        GatewaySettings(SMARTUNION_ENV="production")  # default secrets refused


def test_service_docs_off_in_production(tmp_path, database_factory) -> None:  # type: ignore[no-untyped-def]
    settings = MembershipSettings(SMARTUNION_ENV="production", SMARTUNION_INTERNAL_SECRET="p" * 40,
                                  SMARTUNION_PII_KEYS="k1:" + "A" * 43 + "=", SMARTUNION_DATA_DIR=tmp_path,
                                  qr_key="q" * 40,
                                  database_url=database_factory.sqlite_url("membership", tmp_path / "m.db"))
    app = create_membership(settings, verifier=TokenFactory().verifier())

    async def check() -> None:
        async with running(app) as client:
            assert (await client.get("/docs")).status_code == 404

    asyncio.run(check())
    assert SERVICE_NAMES  # every service is built by the same factory (services/common/app.py)


def test_gateway_docs_page_in_development_only_links_the_merged_document(world: World) -> None:
    resp = world.gw.get("/api/docs")
    assert resp.status_code == 200 and "/api/v1/openapi.json" in resp.text
    assert httpx.get(f"{world.stack.gateway}/docs", timeout=10).status_code == 404
