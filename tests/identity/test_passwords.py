from __future__ import annotations

import httpx

from tests.identity.conftest import ADMIN, admin_login, bearer, sms_login


class TestPasswordLogin:
    async def test_bootstrap_admin_logs_in(self, identity: httpx.AsyncClient) -> None:
        pair = await admin_login(identity)
        me = (await identity.get("/api/v1/me", headers=bearer(pair))).json()
        assert me["roles"] == ["admin"]

    async def test_wrong_password(self, identity: httpx.AsyncClient) -> None:
        resp = await identity.post("/api/v1/auth/password/login", json={"username": ADMIN[0], "password": "wrong"})
        assert resp.status_code == 401
        assert resp.json()["code"] == "invalid_credentials"

    async def test_unknown_user_same_answer(self, identity: httpx.AsyncClient) -> None:
        resp = await identity.post("/api/v1/auth/password/login", json={"username": "ghost", "password": "x"})
        assert resp.status_code == 401
        assert resp.json()["code"] == "invalid_credentials"

    async def test_lockout_after_ten_failures(self, identity: httpx.AsyncClient) -> None:
        for _ in range(10):
            resp = await identity.post("/api/v1/auth/password/login", json={"username": ADMIN[0], "password": "bad"})
            assert resp.status_code == 401
        resp = await identity.post("/api/v1/auth/password/login", json={"username": ADMIN[0], "password": ADMIN[1]})
        assert resp.status_code == 429
        assert resp.json()["code"] == "rate_limited"
        assert int(resp.headers["retry-after"]) > 60


class TestAdminAccounts:
    async def test_admin_creates_staff_who_can_log_in(self, identity: httpx.AsyncClient) -> None:
        admin = await admin_login(identity)
        resp = await identity.post("/api/v1/admin/accounts", headers=bearer(admin), json={
            "username": "gz-staff", "password": "a-long-password", "display_name": "张干事",
            "roles": ["staff", "lawyer"], "org_id": None})
        assert resp.status_code == 201, resp.text
        created = resp.json()
        assert created["roles"] == ["lawyer", "staff"] and created["username"] == "gz-staff"
        assert "password" not in resp.text
        login = await identity.post("/api/v1/auth/password/login",
                                    json={"username": "gz-staff", "password": "a-long-password"})
        assert login.status_code == 200
        me = (await identity.get("/api/v1/me", headers=bearer(login.json()))).json()
        assert me["id"] == created["id"]

    async def test_duplicate_username(self, identity: httpx.AsyncClient) -> None:
        admin = await admin_login(identity)
        body = {"username": "dup", "password": "a-long-password", "display_name": "x", "roles": ["staff"]}
        assert (await identity.post("/api/v1/admin/accounts", headers=bearer(admin), json=body)).status_code == 201
        resp = await identity.post("/api/v1/admin/accounts", headers=bearer(admin), json=body)
        assert resp.status_code == 409

    async def test_user_cannot_create_accounts(self, identity: httpx.AsyncClient) -> None:
        user = await sms_login(identity)
        resp = await identity.post("/api/v1/admin/accounts", headers=bearer(user), json={
            "username": "evil", "password": "a-long-password", "display_name": "x", "roles": ["admin"]})
        assert resp.status_code == 403

    async def test_mass_assignment_and_bad_roles_refused(self, identity: httpx.AsyncClient) -> None:
        admin = await admin_login(identity)
        base = {"username": "x1", "password": "a-long-password", "display_name": "x", "roles": ["staff"]}
        for body in ({**base, "id": "chosen"}, {**base, "roles": ["root"]}, {**base, "password": "short"}):
            resp = await identity.post("/api/v1/admin/accounts", headers=bearer(admin), json=body)
            assert resp.status_code == 422, body


class TestCloseAccount:
    async def test_delete_me_kills_tokens_and_frees_the_phone(self, identity: httpx.AsyncClient) -> None:
        pair = await sms_login(identity)
        assert (await identity.delete("/api/v1/me", headers=bearer(pair))).status_code == 202
        assert (await identity.get("/api/v1/me", headers=bearer(pair))).status_code == 401
        resp = await identity.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
        assert resp.status_code == 401
        again = await sms_login(identity)
        assert again["account_id"] != pair["account_id"]
        me = (await identity.get("/api/v1/me", headers=bearer(again))).json()
        assert me["phone_masked"] == "138****8000"
