"""API8:2023 Security misconfiguration — CORS allow-list, security headers on every answer, docs
off in production, no server banners with versions, no stack traces, no TRACE, and values a
database refuses (NUL characters, lone surrogates, integers beyond 64 bits, huge strings) are
answered 4xx by every write and filter, never passed on to become a 500."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from services.common.config import SERVICE_NAMES
from services.membership.config import MembershipSettings
from services.membership.main import create_app as create_membership
from tests.apps import running
from tests.gateway.conftest import running_gateway
from tests.security.matrix import build_body, load_matrix, resolve_path
from tests.security.world import APP_ORIGIN, ROLES, World
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


# PostgreSQL refuses a NUL in text and integers beyond its column types where SQLite stores them;
# a lone surrogate cannot be encoded to UTF-8 by any driver.
HOSTILE_TEXT = ("前\u0000后", "\ud800", "长" * 70_000)
HOSTILE_NUMBERS = (2**31, 2**63, -(2**63) - 1, 10**30)


def _hostile_variants(body: Any) -> Iterator[Any]:
    """The body with one leaf at a time replaced by a hostile value of its kind."""
    if isinstance(body, dict):
        for key, value in body.items():
            for variant in _hostile_variants(value):
                yield {**body, key: variant}
    elif isinstance(body, str):
        yield from HOSTILE_TEXT
    elif isinstance(body, int | float) and not isinstance(body, bool):
        yield from HOSTILE_NUMBERS


def test_values_a_database_refuses_never_become_a_500(world: World) -> None:
    failures, tried = [], 0
    for row in load_matrix():
        if row.method not in ("POST", "PATCH") or row.body in ("", "multipart"):
            continue
        role = next((r for r in ROLES if row.expect[r] == "allow" and r != "anonymous"), None)
        if role is None or "/auth/" in row.path:
            continue  # auth bodies are tried by test_api2 and test_fuzz; nobody may call the rest
        template = build_body(row, world, role)
        if not isinstance(template, dict):
            continue
        path = resolve_path(row, world, role)
        for body in _hostile_variants(template):
            tried += 1
            raw = json.dumps(body).encode()  # ASCII escapes: a lone surrogate travels as \ud800
            headers = {"content-type": "application/json", "Idempotency-Key": secrets.token_hex(8)}
            if role == "merchant":
                assert world.pos is not None
                resp = world.gw.request(row.method, path, content=raw,
                                        headers={**world.pos.headers(row.method, path, raw), **headers})
            else:
                resp = world.call(row.method, path, role=role, content=raw, headers=headers)
            if resp.status_code >= 500:
                failures.append(f"{row.key} {raw[:80]!r}: {resp.status_code} {resp.text[:120]}")
    for query in ("q=%00", "q=%ED%A0%80", "city=%00", "category=%00", "salary_min=99999999999999999999",
                  "cursor=" + "A" * 500, "status=%00", "parent_id=%00", "unread=%00",
                  "lat=1e308&lng=1e308&radius_m=99999999999999999999"):
        for path in ("/api/v1/jobs", "/api/v1/benefits/offers", "/api/v1/legal/tickets", "/api/v1/orgs",
                     "/api/v1/membership/applications", "/api/v1/notifications"):
            tried += 1
            resp = world.call("GET", f"{path}?{query}", role="admin")
            if resp.status_code >= 500:
                failures.append(f"GET {path}?{query}: {resp.status_code} {resp.text[:120]}")
    for template in ("/api/v1/jobs/{}", "/api/v1/legal/tickets/{}", "/api/v1/orgs/{}", "/api/v1/benefits/offers/{}",
                     "/api/v1/membership/members/{}", "/api/v1/benefits/merchants/{}"):
        for bad_id in ("%00", "%ED%A0%80", "9" * 40, "x" * 5000):
            tried += 1
            resp = world.call("GET", template.format(bad_id), role="admin")
            if resp.status_code >= 500:
                failures.append(f"GET {template.format(bad_id)[:60]}: {resp.status_code} {resp.text[:120]}")
    assert tried >= 250, tried
    assert not failures, "\n".join(failures)
