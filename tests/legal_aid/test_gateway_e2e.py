"""Legal aid through the real gateway and real service processes (identity, membership,
legal_aid): the demo data is seeded over HTTP, then the contract's error codes, attachments,
and account deletion delivered by identity's outbox."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from scripts.demo import legal_aid as legal_demo
from scripts.demo import membership as membership_demo
from tests.stack import Stack, running_stack

ADMIN = ("la-e2e-admin", "la-e2e-admin-password")
MEMBER_PHONE, OTHER_PHONE, CODE = "13600136000", "13600136001", "246802"
PASSWORD = "la-e2e-password-1"
PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    env = {"SMS_TEST_CODES": f"{MEMBER_PHONE}:{CODE},{OTHER_PHONE}:{CODE}",
           "BOOTSTRAP_ADMIN_USERNAME": ADMIN[0], "BOOTSTRAP_ADMIN_PASSWORD": ADMIN[1]}
    with running_stack(tmp_path_factory.mktemp("legal-e2e"), env,
                       services=("identity", "membership", "legal_aid")) as s:
        yield s


async def _login(client: httpx.AsyncClient, username: str, password: str) -> dict[str, str]:
    resp = await client.post("/api/v1/auth/password/login", json={"username": username, "password": password})
    assert resp.status_code == 200, resp.text
    return {"authorization": f"Bearer {resp.json()['access_token']}"}


async def _sms(client: httpx.AsyncClient, phone: str) -> dict[str, str]:
    resp = await client.post("/api/v1/auth/sms/login", json={"phone": phone, "code": CODE})
    assert resp.status_code == 200, resp.text
    return {"authorization": f"Bearer {resp.json()['access_token']}"}


@pytest.fixture(scope="module")
def seeded(stack: Stack) -> dict[str, Any]:
    import asyncio

    async def run() -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=stack.gateway, timeout=30) as client:
            ctx: dict[str, Any] = {"orgs": {}, "headers": {}}
            ctx["headers"]["admin"] = await _login(client, *ADMIN)
            await membership_demo.seed(client, ctx)
            for key, roles, org in (("staff_city", ["staff"], "city"), ("lawyer_city", ["lawyer"], "city"),
                                    ("lawyer_b", ["lawyer"], "workplace_b"), ("staff_b", ["staff"], "workplace_b")):
                resp = await client.post("/api/v1/admin/accounts", headers=ctx["headers"]["admin"], json={
                    "username": f"la-{key}", "password": PASSWORD, "display_name": key, "roles": roles,
                    "org_id": ctx["orgs"][org]})
                assert resp.status_code == 201, resp.text
                ctx["headers"][key] = await _login(client, f"la-{key}", PASSWORD)
                ctx.setdefault("ids", {})[key] = resp.json()["id"]
            ctx["headers"]["member"] = await _sms(client, MEMBER_PHONE)
            await membership_demo.seed_members(client, ctx)
            await legal_demo.seed(client, ctx)
            return ctx

    return asyncio.run(run())


@pytest.fixture
def gw(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.gateway, timeout=15) as client:
        yield client


def _tickets(gw: httpx.Client, headers: dict[str, str], query: str = "") -> list[dict[str, Any]]:
    resp = gw.get(f"/api/v1/legal/tickets{query}", headers=headers)
    assert resp.status_code == 200, resp.text
    return list(resp.json()["items"])


class TestThroughTheGateway:
    def test_demo_data_and_visibility(self, gw: httpx.Client, seeded: dict[str, Any]) -> None:
        h = seeded["headers"]
        mine = {t["category"]: t for t in _tickets(gw, h["member"])}
        assert {c: t["status"] for c, t in mine.items()} == {
            "wage_arrears": "accepted", "work_injury": "submitted", "dismissal": "resolved"}
        assert all(t["org_id"] == seeded["orgs"]["workplace_a"] for t in mine.values())
        assert {t["id"] for t in _tickets(gw, h["lawyer_city"])} == {mine["wage_arrears"]["id"]}
        assert len(_tickets(gw, h["staff_city"])) == 3
        assert _tickets(gw, h["staff_b"]) == []
        queue = _tickets(gw, h["staff_city"], "?status=submitted&sort=due")
        assert [t["id"] for t in queue] == [mine["work_injury"]["id"]]
        wages = mine["wage_arrears"]["id"]
        assert gw.get(f"/api/v1/legal/tickets/{wages}", headers=h["staff_b"]).status_code == 404
        member_view = gw.get(f"/api/v1/legal/tickets/{wages}/messages", headers=h["member"]).json()["items"]
        lawyer_view = gw.get(f"/api/v1/legal/tickets/{wages}/messages", headers=h["lawyer_city"]).json()["items"]
        assert len(lawyer_view) == len(member_view) + 1
        assert not any(m["internal"] for m in member_view)
        rated = gw.get(f"/api/v1/legal/tickets/{mine['dismissal']['id']}", headers=h["member"]).json()
        assert rated["rating"]["score"] == 5

    def test_error_codes(self, gw: httpx.Client, seeded: dict[str, Any]) -> None:
        h = seeded["headers"]
        mine = {t["category"]: t["id"] for t in _tickets(gw, h["member"])}
        injury, dismissal = mine["work_injury"], mine["dismissal"]

        def post(path: str, headers: dict[str, str], body: dict[str, Any]) -> httpx.Response:
            return gw.post(f"/api/v1/legal/tickets{path}", headers=headers, json=body)

        cases = [
            (post("", _sms_sync(gw, OTHER_PHONE), {"category": "other", "title": "t", "description": "d",
                                                   "employer_name": None, "amount_involved_fen": None,
                                                   "org_id": None}), 422, "org_required"),
            (post(f"/{injury}/assign", h["staff_city"], {"lawyer_id": seeded["ids"]["lawyer_b"]}),
             422, "invalid_assignee"),
            (post(f"/{injury}/actions", h["staff_city"], {"action": "resolve", "note": None}),
             409, "invalid_transition"),
            (post(f"/{injury}/actions", h["staff_city"], {"action": "reject", "note": ""}), 422, "validation_error"),
            (post(f"/{injury}/messages", h["member"], {"body": "x", "internal": True}), 403, "forbidden"),
            (post(f"/{dismissal}/rating", h["member"], {"score": 4, "comment": None}), 409, "already_rated"),
            (post(f"/{injury}/rating", h["member"], {"score": 4, "comment": None}), 409, "not_rateable"),
            (post(f"/{injury}/actions", h["staff_b"], {"action": "accept", "note": None}), 404, "not_found"),
            (post(f"/{injury}/actions", {}, {"action": "accept", "note": None}), 401, "unauthenticated"),
        ]
        for resp, status, code in cases:
            assert resp.status_code == status, (code, resp.text)
            assert resp.json()["code"] == code
            assert resp.headers["content-type"].startswith("application/problem+json")

    def test_attachments(self, gw: httpx.Client, seeded: dict[str, Any]) -> None:
        h = seeded["headers"]
        injury = next(t["id"] for t in _tickets(gw, h["member"]) if t["category"] == "work_injury")
        url = f"/api/v1/legal/tickets/{injury}/attachments"
        resp = gw.post(url, headers=h["member"], files={"file": ("诊断证明.pdf", PDF, "application/pdf")})
        assert resp.status_code == 201, resp.text
        got = gw.get(f"/api/v1/legal/attachments/{resp.json()['id']}", headers=h["staff_city"])
        assert got.status_code == 200 and got.content == PDF
        assert got.headers["content-type"] == "application/pdf"
        # The gateway adds its own nosniff on top of the service's: every value must say nosniff.
        assert {v.strip() for v in got.headers["x-content-type-options"].split(",")} == {"nosniff"}
        assert got.headers["content-disposition"].startswith("attachment; filename=")
        assert gw.get(f"/api/v1/legal/attachments/{resp.json()['id']}", headers=h["staff_b"]).status_code == 404
        spoof = gw.post(url, headers=h["member"], files={"file": ("x.pdf", b"<html></html>", "application/pdf")})
        assert spoof.status_code == 415 and spoof.json()["code"] == "unsupported_media_type"
        big = gw.post(url, headers=h["member"],
                      files={"file": ("big.pdf", PDF + b"\0" * (10 * 1024 * 1024), "application/pdf")})
        assert big.status_code == 413 and big.json()["code"] == "too_large"

    def test_account_deletion_anonymises(self, gw: httpx.Client, seeded: dict[str, Any], stack: Stack) -> None:
        h = seeded["headers"]
        wages = next(t["id"] for t in _tickets(gw, h["member"]) if t["category"] == "wage_arrears")
        assert gw.delete("/api/v1/me", headers=h["member"]).status_code == 202
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            body = gw.get(f"/api/v1/legal/tickets/{wages}", headers=h["staff_city"]).json()
            if body["description"] == "":
                break
            time.sleep(0.3)
        assert body["title"] == "（咨询人已注销）" and body["employer_name"] is None
        assert body["status"] == "closed"
        events = gw.get(f"/api/v1/legal/tickets/{wages}/events", headers=h["staff_city"]).json()["items"]
        assert [e["action"] for e in events][:3] == ["submit", "assign", "accept"]
        files = [p for p in (Path(stack.data_dir) / "attachments").rglob("*") if p.is_file()]
        # Both files (the pay slip and the medical certificate) were uploaded by the member.
        assert files == []
        log = stack.logs["legal_aid"].read_text()
        assert "外包" not in log and "工资条" not in log and "13600136000" not in log


def _sms_sync(gw: httpx.Client, phone: str) -> dict[str, str]:
    resp = gw.post("/api/v1/auth/sms/login", json={"phone": phone, "code": CODE})
    assert resp.status_code == 200, resp.text
    return {"authorization": f"Bearer {resp.json()['access_token']}"}
