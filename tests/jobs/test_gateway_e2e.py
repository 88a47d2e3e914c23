"""§7 through the real gateway and real processes (identity, membership, jobs, …): real logins,
the real org tree, and account closure delivered by identity's outbox."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx

from tests.e2e.conftest import E2E_ADMIN, E2E_CODE, E2E_PHONE, gw, stack, wechat_server  # noqa: F401

PASSWORD = "jobs-e2e-password-1"


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def _password_login(client: httpx.Client, username: str, password: str = PASSWORD) -> dict[str, str]:
    resp = client.post("/api/v1/auth/password/login", json={"username": username, "password": password})
    assert resp.status_code == 200, resp.text
    return _bearer(resp.json()["access_token"])


def test_jobs_through_the_gateway(gw: httpx.Client) -> None:  # noqa: F811
    admin = _password_login(gw, *E2E_ADMIN)
    orgs = {}
    for key, name, parent in (("root", "全国总工会(jobs)", None), ("city", "广州市总工会(jobs)", "root"),
                              ("work", "广州地铁工会(jobs)", "city"), ("other", "深圳市总工会(jobs)", "root")):
        resp = gw.post("/api/v1/orgs", json={"name": name, "parent_id": orgs.get(parent or "")}, headers=admin)
        assert resp.status_code == 201, resp.text
        orgs[key] = resp.json()["id"]
    for username, roles, org in (("jobs-hr", ["employer"], "work"), ("jobs-staff", ["staff"], "city"),
                                 ("jobs-sz-staff", ["staff"], "other")):
        resp = gw.post("/api/v1/admin/accounts", headers=admin, json={
            "username": username, "password": PASSWORD, "display_name": username, "roles": roles,
            "org_id": orgs[org]})
        assert resp.status_code == 201, resp.text
    hr, staff, sz_staff = (_password_login(gw, u) for u in ("jobs-hr", "jobs-staff", "jobs-sz-staff"))
    resp = gw.post("/api/v1/auth/sms/login", json={"phone": E2E_PHONE, "code": E2E_CODE})
    member = _bearer(resp.json()["access_token"])

    body = {"title": "地铁车站电工", "employer_name": "广州地铁", "city": "广州", "category": "技工",
            "salary_min": 6000, "salary_max": 9000, "description": "持低压电工证", "contact_phone": "13912345678",
            "expires_at": (datetime.now(UTC) + timedelta(days=30)).isoformat()}
    resp = gw.post("/api/v1/jobs", json=body, headers=hr)
    assert resp.status_code == 201, resp.text
    job = resp.json()
    assert job["status"] == "pending_review" and job["org_id"] == orgs["work"]
    assert gw.post("/api/v1/jobs", json=body, headers=hr).json()["code"] == "duplicate_posting"
    bad = gw.post("/api/v1/jobs", json=body | {"salary_min": 10000}, headers=hr)
    assert bad.status_code == 422 and bad.json()["code"] == "validation_error"
    assert gw.post("/api/v1/jobs", json=body, headers=member).status_code == 403

    assert gw.get(f"/api/v1/jobs/{job['id']}", headers=member).status_code == 404
    assert gw.post(f"/api/v1/jobs/{job['id']}/review", json={"decision": "approve"},
                   headers=sz_staff).status_code == 404
    resp = gw.post(f"/api/v1/jobs/{job['id']}/review", json={"decision": "approve"}, headers=staff)
    assert resp.status_code == 200 and resp.json()["status"] == "published"

    found = gw.get("/api/v1/jobs", params={"q": "电工", "city": "广州"}, headers=member).json()["items"]
    assert [j["id"] for j in found] == [job["id"]]
    assert gw.get("/api/v1/jobs", params={"q": "司机"}, headers=member).json()["items"] == []
    assert gw.get("/api/v1/jobs", params={"q": "' OR 1=1 --"}, headers=member).status_code == 200

    resp = gw.post(f"/api/v1/jobs/{job['id']}/applications", json={"message": "八年经验"}, headers=member)
    assert resp.status_code == 201, resp.text
    assert resp.json()["applicant_phone_masked"] == E2E_PHONE[:3] + "****" + E2E_PHONE[-4:]
    again = gw.post(f"/api/v1/jobs/{job['id']}/applications", json={"message": "再来"}, headers=member)
    assert again.status_code == 409 and again.json()["code"] == "already_applied"
    applicants = gw.get(f"/api/v1/jobs/{job['id']}/applications", headers=hr).json()["items"]
    assert len(applicants) == 1 and applicants[0]["seen_at"] is not None
    mine = gw.get("/api/v1/jobs/applications/mine", headers=member).json()["items"]
    assert mine[0]["job_status"] == "published" and mine[0]["seen_at"] is not None

    resp = gw.patch(f"/api/v1/jobs/{job['id']}", json={"salary_max": 9500}, headers=hr)
    assert resp.status_code == 200 and resp.json()["status"] == "pending_review"
    assert gw.get("/api/v1/jobs", params={"q": "电工"}, headers=member).json()["items"] == []
    gw.post(f"/api/v1/jobs/{job['id']}/review", json={"decision": "approve"}, headers=staff)

    # The applicant closes their account: identity's outbox tells jobs, the poster no longer sees them.
    assert gw.delete("/api/v1/me", headers=member).status_code == 202
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if gw.get(f"/api/v1/jobs/{job['id']}/applications", headers=hr).json()["items"] == []:
            break
        time.sleep(0.3)
    else:
        raise AssertionError("the closed account's application is still shown to the poster")

    resp = gw.post(f"/api/v1/jobs/{job['id']}/close", json={"reason": "filled"}, headers=hr)
    assert resp.status_code == 200 and resp.json()["status"] == "closed"
    other = gw.post("/api/v1/auth/sms/login", json={"phone": E2E_PHONE, "code": E2E_CODE}).json()
    closed = gw.post(f"/api/v1/jobs/{job['id']}/applications", json={}, headers=_bearer(other["access_token"]))
    assert closed.status_code == 409 and closed.json()["code"] == "job_not_open"
