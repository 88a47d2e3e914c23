"""An unexpected exception is a 500 problem that still carries the request id; ids taken from
request bodies never become part of an internal URL."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import APIRouter

from services.common.app import create_service_app
from services.common.config import CommonSettings
from services.common.http import OrgDirectory, ServiceClient
from services.common.internal_auth import ServiceSigner
from tests.apps import TEST_INTERNAL_SECRET, running


class _Settings(CommonSettings):
    pass


async def test_unhandled_exception_is_a_500_problem_with_the_request_id(tmp_path: Path) -> None:
    router = APIRouter()

    @router.get("/boom")
    async def boom() -> dict[str, str]:
        raise RuntimeError("a bug")

    settings = _Settings(SMARTUNION_DATA_DIR=tmp_path, SMARTUNION_INTERNAL_SECRET=TEST_INTERNAL_SECRET,
                         database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    app = create_service_app(settings, title="t", routers=[router], verifier=object())  # type: ignore[arg-type]
    async with running(app) as client:
        resp = await client.get("/boom", headers={"x-request-id": "req-123"})
    assert resp.status_code == 500
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert resp.json()["code"] == "internal_error" and resp.json()["request_id"] == "req-123"
    assert resp.headers["x-request-id"] == "req-123"
    assert "a bug" not in resp.text and "Traceback" not in resp.text


async def test_org_ids_that_cannot_be_ids_are_unknown_without_a_call() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(200, json={"id": "x", "path": "/x/"})

    client = ServiceClient("membership", "http://membership.test", ServiceSigner(TEST_INTERNAL_SECRET, "jobs"),
                           transport=httpx.MockTransport(handler))
    orgs = OrgDirectory(client)
    for bad in ("a/../b", "中文", "a b", "x?y=1", "", "a" * 65):
        assert await orgs.get(bad) is None
    assert calls == []
    assert await orgs.get("01a2ok_id-9") == {"id": "x", "path": "/x/"}
    assert calls == ["/internal/orgs/01a2ok_id-9"]
    await client.aclose()
