"""API9:2023 Improper inventory management — through the gateway only the public API and the
gateway's own operational routes answer: no /internal/*, no service /docs, /openapi.json,
/metrics or /.well-known, also with encoded and dotted paths; the gateway's /metrics is for the
operator only (loopback without a proxy in between, or a bearer token)."""

from __future__ import annotations

import socket

from tests.gateway.conftest import running_gateway
from tests.security.world import World
from tests.tokens import TokenFactory

HIDDEN = [
    "/internal/revocations", "/internal/events", "/internal/qr/check", "/internal/orgs/x",
    "/api/v1/internal/revocations", "/api/v1/auth/../../internal/revocations",
    "/api/v1/auth/%2e%2e/%2e%2e/internal/revocations", "/api/v1/jobs/..%2f..%2finternal%2fevents",
    "/api/v1/membership/%2e%2e/%2e%2e/internal/qr/check", "/api/v1/me/../../internal/revocations",
    "/docs", "/openapi.json", "/redoc", "/.well-known/jwks.json", "/api/v1/.well-known/jwks.json",
    "/api/v1/auth/../../.well-known/jwks.json", "/api/v1/legal/../../docs", "/api/v1/jobs/../../metrics",
    "/api/v1/health/../../internal/revocations", "/api/v1/health/identity/../../internal/revocations",
    "/api/v1/legal/attachments/../../../../etc/passwd", "/api/v1/debug", "/server-status", "/.env", "/.git/config",
    "/api/v2/jobs", "/API/V1/jobs", "/api/v1//internal/events",
]


def _raw_get(world: World, target: str) -> tuple[int, bytes]:
    """GET with the request target exactly as written (httpx would normalise the dots)."""
    port = world.stack.gateway_port
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        auth = world.headers["admin"]["authorization"]
        head = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {auth}\r\nConnection: close\r\n\r\n"
        sock.sendall(head.encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    status = int(data.split(b" ", 2)[1])
    return status, data


def test_nothing_internal_is_reachable_through_the_gateway(world: World) -> None:
    reached = []
    for target in HIDDEN:
        for method in ("GET", "POST"):
            if method == "GET":
                status, body = _raw_get(world, target)
            else:
                resp = world.gw.post(target, json={"id": "x", "topic": "account.closed", "payload": {}},
                                     headers=world.headers["admin"])
                status, body = resp.status_code, resp.content
                if resp.url.path == "/api/docs":  # httpx resolved the dots: the public docs page
                    continue
            if status not in (400, 401, 404, 405) or b"openapi" in body or b'"keys"' in body:
                reached.append(f"{method} {target}: {status} {body[:80]!r}")
    assert not reached, reached


def test_what_is_meant_to_be_public_is(world: World) -> None:
    assert world.gw.get("/healthz").status_code == 200
    assert world.gw.get("/readyz").status_code == 200
    assert world.gw.get("/api/v1/openapi.json").status_code == 200
    assert world.gw.get("/api/v1/health/jobs").json() == {"status": "ok"}
    assert world.gw.get("/api/v1/health/nothing").status_code == 404
    spec = world.gw.get("/api/v1/openapi.json").json()
    assert not [p for p in spec["paths"] if "/internal" in p or not p.startswith("/api/v1/")]


def test_gateway_metrics_are_for_the_operator_only(world: World) -> None:
    # Loopback, no proxy in between: the operator's own scrape.
    assert world.gw.get("/metrics").status_code == 200
    # The same request relayed by a proxy (a public client behind a load balancer on this host).
    relayed = world.gw.get("/metrics", headers={"x-forwarded-for": "203.0.113.9"})
    assert relayed.status_code == 404 and "smartunion_gateway" not in relayed.text
    assert world.gw.get("/metrics", headers={"forwarded": "for=203.0.113.9"}).status_code == 404


async def test_gateway_metrics_from_another_host_need_the_token(tokens: TokenFactory) -> None:
    async with running_gateway(tokens, client_ip="203.0.113.9") as (_, client):
        assert (await client.get("/metrics")).status_code == 404
    async with running_gateway(tokens, client_ip="203.0.113.9", metrics_token="s3cret-scrape") as (_, client):
        assert (await client.get("/metrics")).status_code == 404
        assert (await client.get("/metrics", headers={"authorization": "Bearer wrong"})).status_code == 404
        resp = await client.get("/metrics", headers={"authorization": "Bearer s3cret-scrape"})
        assert resp.status_code == 200 and "smartunion_gateway" in resp.text
