"""schemathesis on every service's OpenAPI and on the gateway's merged one (tests/fuzz/harness.py),
against the real stack, acting as admin and as a member (their tokens reach the most code)."""

from __future__ import annotations

import os

import httpx

from services.common.config import SERVICE_NAMES
from tests.fuzz.harness import Report, fuzz
from tests.security.conftest import on_backends
from tests.security.world import World

# `make test` fuzzes the SQLite stack only (the PostgreSQL one would add a minute to every run;
# the values PostgreSQL refuses where SQLite does not are tried on both stacks by
# test_api8_misconfiguration.py); `make fuzz` (FUZZ_EXAMPLES set) fuzzes both.
pytestmark = on_backends(*(("sqlite", "postgres") if os.environ.get("FUZZ_EXAMPLES") else ("sqlite",)))


def test_every_service_survives_schemathesis(world: World) -> None:
    report = Report()
    for name in SERVICE_NAMES:
        base = world.stack.service_url(name)
        spec = httpx.get(f"{base}/openapi.json", timeout=20).json()
        for role in ("admin", "member"):
            fuzz(spec, base, world.headers[role], gateway=False, report=report)
    assert report.operations >= 2 * 65 and report.calls > report.operations
    assert not report.failures, "\n".join(sorted(set(report.failures))[:40])


def test_the_gateway_survives_schemathesis(world: World) -> None:
    report = Report()
    spec = world.ok(world.gw.get("/api/v1/openapi.json"))
    fuzz(spec, world.stack.gateway, world.headers["staff_in"], gateway=True, report=report)
    assert report.operations >= 70
    assert not report.failures, "\n".join(sorted(set(report.failures))[:40])
