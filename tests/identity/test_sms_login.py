from __future__ import annotations

import httpx

from tests.identity.conftest import TEST_CODE, TEST_PHONE, bearer, sms_login


class TestSmsLogin:
    async def test_first_login_creates_account_and_me_is_masked(self, identity: httpx.AsyncClient) -> None:
        pair = await sms_login(identity)
        assert pair["token_type"] == "Bearer" and pair["expires_in"] == 900
        me = (await identity.get("/api/v1/me", headers=bearer(pair))).json()
        assert me["id"] == pair["account_id"]
        assert me["phone_masked"] == "138****8000"
        assert me["roles"] == []

    async def test_second_login_same_account(self, identity: httpx.AsyncClient) -> None:
        first = await sms_login(identity)
        second = await sms_login(identity)
        assert first["account_id"] == second["account_id"]

    async def test_send_twice_within_a_minute_is_429(self, identity: httpx.AsyncClient) -> None:
        assert (await identity.post("/api/v1/auth/sms/send", json={"phone": TEST_PHONE})).status_code == 202
        resp = await identity.post("/api/v1/auth/sms/send", json={"phone": TEST_PHONE})
        assert resp.status_code == 429
        assert resp.json()["code"] == "rate_limited"
        assert int(resp.headers["retry-after"]) >= 1

    async def test_invalid_phone(self, identity: httpx.AsyncClient) -> None:
        resp = await identity.post("/api/v1/auth/sms/send", json={"phone": "12345"})
        assert resp.status_code == 422
        assert resp.json()["code"] == "invalid_phone"

    async def test_five_wrong_codes_kill_the_code(self, identity: httpx.AsyncClient) -> None:
        await identity.post("/api/v1/auth/sms/send", json={"phone": TEST_PHONE})
        for _ in range(5):
            resp = await identity.post("/api/v1/auth/sms/login", json={"phone": TEST_PHONE, "code": "000000"})
            assert resp.status_code == 401
            assert resp.json()["code"] == "invalid_code"
        resp = await identity.post("/api/v1/auth/sms/login", json={"phone": TEST_PHONE, "code": TEST_CODE})
        assert resp.status_code == 401
        assert resp.json()["code"] == "invalid_code"
