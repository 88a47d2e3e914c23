"""Identity flows driven over HTTP through the real gateway and real processes."""

from __future__ import annotations

import time

import httpx
import jwt

from tests.e2e.conftest import E2E_ADMIN, E2E_CODE, E2E_PHONE, E2E_PHONE_2


def _login(gw: httpx.Client, phone: str = E2E_PHONE) -> dict:
    resp = gw.post("/api/v1/auth/sms/login", json={"phone": phone, "code": E2E_CODE})
    assert resp.status_code == 200, resp.text
    return resp.json()


def _bearer(pair: dict) -> dict[str, str]:
    return {"authorization": f"Bearer {pair['access_token']}"}


class TestThroughTheGateway:
    def test_ready_and_request_id(self, gw: httpx.Client) -> None:
        assert gw.get("/readyz").status_code == 200
        resp = gw.get("/api/v1/me", headers={"x-request-id": "trace-abc-123"})
        assert resp.status_code == 401
        assert resp.headers["x-request-id"] == "trace-abc-123"
        assert resp.json()["request_id"] == "trace-abc-123"
        assert resp.headers["content-type"].startswith("application/problem+json")

    def test_sms_login_me_refresh_reuse_logout(self, gw: httpx.Client) -> None:
        assert gw.post("/api/v1/auth/sms/send", json={"phone": E2E_PHONE_2}).status_code == 202
        pair = _login(gw, E2E_PHONE_2)
        me = gw.get("/api/v1/me", headers=_bearer(pair)).json()
        assert me["phone_masked"] == "137****7001"
        new = gw.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
        assert new.status_code == 200
        reused = gw.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
        assert reused.status_code == 401 and reused.json()["code"] == "refresh_token_reused"
        dead = gw.post("/api/v1/auth/refresh", json={"refresh_token": new.json()["refresh_token"]})
        assert dead.status_code == 401

    def test_wechat_login_and_phone_merge(self, gw: httpx.Client, wechat_server: str) -> None:
        app_account = _login(gw)
        httpx.post(f"{wechat_server}/_fake/login_codes", json={"e2e-c1": "e2e-openid", "e2e-c2": "e2e-openid"})
        httpx.post(f"{wechat_server}/_fake/phone_codes", json={"e2e-p1": E2E_PHONE})
        mini = gw.post("/api/v1/auth/wechat/login", json={"code": "e2e-c1"})
        assert mini.status_code == 200, mini.text
        assert mini.json()["phone_bound"] is False
        reuse = gw.post("/api/v1/auth/wechat/login", json={"code": "e2e-c1"})
        assert reuse.status_code == 401 and reuse.json()["code"] == "wechat_code_invalid"
        merged = gw.post("/api/v1/auth/wechat/phone", json={"code": "e2e-p1"}, headers=_bearer(mini.json()))
        assert merged.status_code == 200, merged.text
        assert merged.json()["account_id"] == app_account["account_id"]
        again = gw.post("/api/v1/auth/wechat/login", json={"code": "e2e-c2"}).json()
        assert again["account_id"] == app_account["account_id"] and again["phone_bound"] is True
        assert httpx.get(f"{wechat_server}/_fake/state").json()["token_fetches"] == 1

    def test_slow_wechat_is_503_within_budget(self, gw: httpx.Client) -> None:
        start = time.monotonic()
        resp = gw.post("/api/v1/auth/wechat/login", json={"code": "slow"})
        assert resp.status_code == 503 and resp.json()["code"] == "wechat_unavailable"
        assert time.monotonic() - start < 4.5

    def test_password_lockout(self, gw: httpx.Client) -> None:
        for _ in range(10):
            bad = gw.post("/api/v1/auth/password/login", json={"username": E2E_ADMIN[0], "password": "wrong"})
            assert bad.status_code == 401 and bad.json()["code"] == "invalid_credentials"
        locked = gw.post("/api/v1/auth/password/login", json={"username": E2E_ADMIN[0], "password": E2E_ADMIN[1]})
        assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0

    def test_hostile_requests_never_500(self, gw: httpx.Client) -> None:
        pair = _login(gw)
        claims = jwt.decode(pair["access_token"], options={"verify_signature": False})
        forged = [jwt.encode(claims, None, algorithm="none"), pair["access_token"][:-3] + "abc", "x.y.z"]
        for token in forged:
            resp = gw.get("/api/v1/me", headers={"authorization": f"Bearer {token}"})
            assert resp.status_code == 401, token
        cases = [
            gw.post("/api/v1/auth/sms/login", content=b"{not json", headers={"content-type": "application/json"}),
            gw.post("/api/v1/auth/sms/login", json={"phone": ["x"], "code": {"a": 1}}),
            gw.post("/api/v1/auth/sms/login", content=b"x" * (2 * 1024 * 1024)),
            gw.get("/api/v1/nowhere"),
            gw.delete("/api/v1/auth/sms/login"),
            gw.get("/api/v1/me", headers={"authorization": "Basic abc"}),
        ]
        assert [r.status_code for r in cases] == [400, 422, 413, 404, 405, 401]
        for resp in cases:
            assert resp.headers["content-type"].startswith("application/problem+json")
            assert "Traceback" not in resp.text and "File \"" not in resp.text

    def test_internal_routes_not_reachable(self, gw: httpx.Client) -> None:
        for path in ("/internal/revocations", "/api/v1/../internal/revocations", "/.well-known/jwks.json"):
            assert gw.get(path).status_code == 404
