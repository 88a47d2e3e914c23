"""API4:2023 Unrestricted resource consumption — page size caps on every list, body and upload
size caps (also when the size is not announced), SMS throttles per phone and per IP, login
lockout (see test_api2), and 429s that say when to come back."""

from __future__ import annotations

import io
import os
import secrets

import httpx

from services.identity.config import IdentitySettings
from services.identity.main import create_app as create_identity
from tests.apps import running
from tests.gateway.conftest import running_gateway
from tests.identity.conftest import identity_settings  # noqa: F401
from tests.security.world import World
from tests.tokens import TokenFactory


def _list_routes(world: World) -> list[str]:
    spec = world.ok(world.gw.get("/api/v1/openapi.json"))
    return [path for path, ops in spec["paths"].items() if "get" in ops and "{" not in path
            and any(p.get("name") == "limit" for p in ops["get"].get("parameters", []))]


def test_every_list_caps_its_page_size(world: World) -> None:
    routes = _list_routes(world)
    assert len(routes) >= 12, routes
    wrong = []
    for path in routes:
        role = "merchant" if path.startswith("/api/v1/merchant/") else "member" if "redemptions/mine" in path \
            else "admin"
        for limit, expected in (("1000", 422), ("0", 422), ("-1", 422), ("100", 200)):
            target = f"{path}?limit={limit}"
            if "calendar" in path or "statement" in path:
                target += "&from=2026-01-01&to=2026-01-31"
            if role == "merchant":
                resp = world.merchant_call("GET", target)
            else:
                resp = world.call("GET", target, role=role)
            if resp.status_code != expected:
                wrong.append(f"{target}: {resp.status_code} {resp.text[:100]}")
    assert not wrong, wrong


def test_json_bodies_over_1_mib_are_refused(world: World) -> None:
    big = {"category": "other", "title": "大", "description": "长" * (600 * 1024)}  # ~1.8 MB in UTF-8
    resp = world.call("POST", "/api/v1/legal/tickets", role="member", json=big)
    assert resp.status_code == 413 and resp.json()["code"] == "too_large"

    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(40):
            yield b" " * 32 * 1024  # 1.25 MiB of JSON whitespace, size not announced
        yield b"{}"

    resp = world.gw.post("/api/v1/legal/tickets", content=chunks(),
                         headers={**world.headers["member"], "content-type": "application/json"})
    assert resp.status_code == 413
    # Straight to a service too (the gateway is not the only guard).
    resp = httpx.post(f"{world.stack.service_url('jobs')}/api/v1/jobs", content=b" " * (1024 * 1024 + 10),
                      headers={**world.headers["employer"], "content-type": "application/json"}, timeout=20)
    assert resp.status_code == 413


def test_uploads_over_10_mib_are_refused(world: World) -> None:
    data = b"%PDF-1.4\n" + os.urandom(10 * 1024 * 1024)
    resp = world.upload("ticket", data=data)
    assert resp.status_code == 413 and resp.json()["code"] == "too_large"
    # The store holds no trace of the refused upload.
    listing = world.ok(world.call("GET", f"/api/v1/legal/tickets/{world.ids['ticket']}/attachments?limit=100",
                                  role="member"))
    assert all(item["size"] < 10 * 1024 * 1024 for item in listing["items"])
    resp = world.call("POST", f"/api/v1/legal/tickets/{world.ids['ticket']}/attachments", role="member",
                      files={"file": ("a.exe", io.BytesIO(b"MZ\x90\x00" + b"\x00" * 100), "application/pdf")})
    assert resp.status_code == 415


def test_sms_once_a_minute_per_phone(world: World) -> None:
    phone = world.next_phone()
    assert world.call("POST", "/api/v1/auth/sms/send", json={"phone": phone}).status_code == 202
    resp = world.call("POST", "/api/v1/auth/sms/send", json={"phone": phone})
    assert resp.status_code == 429 and resp.json()["code"] == "rate_limited"
    assert 0 < int(resp.headers["retry-after"]) <= 60


async def test_sms_per_ip_per_hour(identity_settings: IdentitySettings) -> None:  # noqa: F811
    """Real SMS (not test phones) from one address: 20 an hour (RATE_LIMIT_SCALE=1)."""
    async with running(create_identity(identity_settings)) as client:
        codes = []
        for n in range(22):
            resp = await client.post("/api/v1/auth/sms/send", json={"phone": f"1376000{n:04d}"},
                                     headers={"x-real-ip": "198.51.100.7"})
            codes.append(resp.status_code)
        assert codes[:20] == [202] * 20 and codes[20:] == [429, 429], codes
        # Another address is not affected.
        resp = await client.post("/api/v1/auth/sms/send", json={"phone": "13760009999"},
                                 headers={"x-real-ip": "198.51.100.8"})
        assert resp.status_code == 202


async def test_rate_limits_belong_to_one_deployment(tokens: TokenFactory, redis_test_url: str) -> None:
    """Two deployments (or test stacks) on one Redis, told apart by SMARTUNION_REDIS_NAMESPACE:
    one spending a client's quota leaves the other's whole. The gateway's keys used a fixed
    `su:gateway:rl` prefix: a busy deployment could lock the other's clients out."""
    ip, ns = f"198.51.100.{secrets.randbelow(200) + 20}", "sec-rl-" + secrets.token_hex(4)
    limits = {"redis_url": redis_test_url, "rate_limit_ip": 3, "client_ip": ip}
    async with running_gateway(tokens, redis_namespace=ns + "-a", **limits) as (_, a), \
            running_gateway(tokens, redis_namespace=ns + "-b", **limits) as (_, b):
        codes = [(await a.get("/api/v1/nothing-here")).status_code for _ in range(4)]
        assert codes == [404] * 3 + [429], codes
        assert (await b.get("/api/v1/nothing-here")).status_code == 404
    # The same namespace is the same deployment: replicas share the quota.
    async with running_gateway(tokens, redis_namespace=ns + "-a", **limits) as (_, again):
        assert (await again.get("/api/v1/nothing-here")).status_code == 429
