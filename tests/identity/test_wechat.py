from __future__ import annotations

import httpx

from tests.identity.conftest import TEST_PHONE, bearer, sms_login


async def _codes(fake, **codes: str) -> None:  # type: ignore[no-untyped-def]
    fake.state.fake["login_codes"].update(codes)


class TestWechatLogin:
    async def test_login_creates_account_without_phone(self, wechat_identity: httpx.AsyncClient, wechat_fake) -> None:  # type: ignore[no-untyped-def]
        await _codes(wechat_fake, c1="openid-1")
        resp = await wechat_identity.post("/api/v1/auth/wechat/login", json={"code": "c1"})
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["phone_bound"] is False
        assert "session_key" not in resp.text

    async def test_same_openid_same_account(self, wechat_identity: httpx.AsyncClient, wechat_fake) -> None:  # type: ignore[no-untyped-def]
        await _codes(wechat_fake, a="openid-2", b="openid-2")
        one = (await wechat_identity.post("/api/v1/auth/wechat/login", json={"code": "a"})).json()
        two = (await wechat_identity.post("/api/v1/auth/wechat/login", json={"code": "b"})).json()
        assert one["account_id"] == two["account_id"]

    async def test_code_reuse_and_unknown_code_are_401(self, wechat_identity: httpx.AsyncClient, wechat_fake) -> None:  # type: ignore[no-untyped-def]
        await _codes(wechat_fake, once="openid-3")
        assert (await wechat_identity.post("/api/v1/auth/wechat/login", json={"code": "once"})).status_code == 200
        for code in ("once", "never-issued"):
            resp = await wechat_identity.post("/api/v1/auth/wechat/login", json={"code": code})
            assert resp.status_code == 401
            assert resp.json()["code"] == "wechat_code_invalid"

    async def test_wechat_trouble_is_503_or_429(self, wechat_identity: httpx.AsyncClient) -> None:
        # "slow" needs a real socket for the timeout to bite: see tests/e2e.
        for code in ("busy", "garbage", "huge"):
            resp = await wechat_identity.post("/api/v1/auth/wechat/login", json={"code": code})
            assert resp.status_code == 503, code
            assert resp.json()["code"] == "wechat_unavailable"
        resp = await wechat_identity.post("/api/v1/auth/wechat/login", json={"code": "ratelimited"})
        assert resp.status_code == 429

    async def test_not_configured(self, identity: httpx.AsyncClient) -> None:
        resp = await identity.post("/api/v1/auth/wechat/login", json={"code": "x"})
        assert resp.status_code == 503
        assert resp.json()["code"] == "wechat_not_configured"


class TestWechatPhone:
    async def test_bind_new_phone(self, wechat_identity: httpx.AsyncClient, wechat_fake) -> None:  # type: ignore[no-untyped-def]
        await _codes(wechat_fake, l1="openid-10")
        wechat_fake.state.fake["phone_codes"]["p1"] = "13900139000"
        pair = (await wechat_identity.post("/api/v1/auth/wechat/login", json={"code": "l1"})).json()
        resp = await wechat_identity.post("/api/v1/auth/wechat/phone", json={"code": "p1"}, headers=bearer(pair))
        assert resp.status_code == 200, resp.text
        me = (await wechat_identity.get("/api/v1/me", headers=bearer(resp.json()))).json()
        assert me["phone_masked"] == "139****9000"
        assert resp.json()["account_id"] == pair["account_id"]

    async def test_phone_of_an_app_account_merges(self, wechat_identity: httpx.AsyncClient, wechat_fake) -> None:  # type: ignore[no-untyped-def]
        app_pair = await sms_login(wechat_identity)
        await _codes(wechat_fake, l2="openid-11", l3="openid-11")
        wechat_fake.state.fake["phone_codes"]["p2"] = TEST_PHONE
        mini = (await wechat_identity.post("/api/v1/auth/wechat/login", json={"code": "l2"})).json()
        assert mini["account_id"] != app_pair["account_id"]
        resp = await wechat_identity.post("/api/v1/auth/wechat/phone", json={"code": "p2"}, headers=bearer(mini))
        assert resp.status_code == 200, resp.text
        assert resp.json()["account_id"] == app_pair["account_id"]
        # The mini-program account is retired; the next WeChat login lands on the app account.
        assert (await wechat_identity.get("/api/v1/me", headers=bearer(mini))).status_code == 401
        later = (await wechat_identity.post("/api/v1/auth/wechat/login", json={"code": "l3"})).json()
        assert later["account_id"] == app_pair["account_id"]
        assert later["phone_bound"] is True

    async def test_invalid_phone_code(self, wechat_identity: httpx.AsyncClient, wechat_fake) -> None:  # type: ignore[no-untyped-def]
        await _codes(wechat_fake, l4="openid-12")
        pair = (await wechat_identity.post("/api/v1/auth/wechat/login", json={"code": "l4"})).json()
        resp = await wechat_identity.post("/api/v1/auth/wechat/phone", json={"code": "nope"}, headers=bearer(pair))
        assert resp.status_code == 401
        assert resp.json()["code"] == "wechat_code_invalid"

    async def test_app_account_cannot_use_wechat_phone(self, wechat_identity: httpx.AsyncClient) -> None:
        pair = await sms_login(wechat_identity)
        resp = await wechat_identity.post("/api/v1/auth/wechat/phone", json={"code": "x"}, headers=bearer(pair))
        assert resp.status_code == 403
