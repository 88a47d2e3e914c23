"""Membership over HTTP through the real gateway, with the real identity service: admin builds the
tree, creates a staff account (identity validates its org against /internal/orgs), a phone user
joins, gets a card and a QR code, and DELETE /me erases the membership through the outbox event."""

from __future__ import annotations

import time

import httpx

from services.common.internal_auth import ServiceSigner
from tests.e2e.conftest import E2E_ADMIN, E2E_CODE, E2E_PHONE, gw, stack, wechat_server  # noqa: F401
from tests.membership.conftest import id_number
from tests.stack import Stack


def _bearer(resp: httpx.Response) -> dict[str, str]:
    assert resp.status_code == 200, resp.text
    return {"authorization": f"Bearer {resp.json()['access_token']}"}


def test_join_card_qr_and_account_deletion(gw: httpx.Client, stack: Stack) -> None:  # noqa: F811
    admin = _bearer(gw.post("/api/v1/auth/password/login", json={"username": E2E_ADMIN[0], "password": E2E_ADMIN[1]}))
    ids = {}
    for key, name, parent in (("root", "中华全国总工会", None), ("city", "广州市总工会", "root"),
                              ("ws", "广州地铁集团工会", "city")):
        resp = gw.post("/api/v1/orgs", json={"name": name, "parent_id": ids.get(parent or "")}, headers=admin)
        assert resp.status_code == 201, resp.text
        ids[key] = resp.json()["id"]
    resp = gw.post("/api/v1/admin/accounts", headers=admin, json={
        "username": "m-staff", "password": "m-staff-password-1", "display_name": "张干事", "roles": ["staff"],
        "org_id": ids["city"]})
    assert resp.status_code == 201, resp.text
    resp = gw.post("/api/v1/admin/accounts", headers=admin, json={
        "username": "m-staff-2", "password": "m-staff-password-1", "display_name": "x", "roles": ["staff"],
        "org_id": "no-such-org"})
    assert resp.status_code == 422
    staff = _bearer(gw.post("/api/v1/auth/password/login",
                            json={"username": "m-staff", "password": "m-staff-password-1"}))

    user = _bearer(gw.post("/api/v1/auth/sms/login", json={"phone": E2E_PHONE, "code": E2E_CODE}))
    number = id_number(42)
    resp = gw.post("/api/v1/membership/applications", headers=user, json={
        "real_name": "陈小红", "id_number": number, "org_id": ids["ws"], "employer_name": "广州地铁集团有限公司"})
    assert resp.status_code == 201, resp.text
    assert number not in resp.text
    resp = gw.post(f"/api/v1/membership/applications/{resp.json()['id']}/approve", headers=staff)
    assert resp.status_code == 200, resp.text
    me = gw.get("/api/v1/membership/me", headers=user).json()
    assert me["status"] == "active" and me["org_name"] == "广州地铁集团工会"
    qr = gw.post("/api/v1/membership/me/qr", headers=user)
    assert qr.status_code == 201 and len(qr.json()["token"]) <= 64

    # The gateway never forwards internal routes.
    assert gw.post("/internal/qr/check", json={"token": qr.json()["token"]}).status_code == 404
    membership = f"http://127.0.0.1:{stack.services_base + 2}"
    service_token = ServiceSigner(stack.env["SMARTUNION_INTERNAL_SECRET"], "benefits").token_for("membership")
    check = httpx.post(f"{membership}/internal/qr/check", json={"token": qr.json()["token"]},
                       headers={"x-service-token": service_token}).json()
    assert check["valid"] is True and check["member"]["name_masked"] == "陈**"

    assert gw.delete("/api/v1/me", headers=user).status_code == 202
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        check = httpx.post(f"{membership}/internal/qr/check", json={"token": qr.json()["token"]},
                           headers={"x-service-token": service_token}).json()
        if check["reason"] == "not_a_member":
            break
        time.sleep(0.3)
    assert check == {"valid": False, "reason": "not_a_member", "member": None}
