"""API10:2023 Unsafe consumption of APIs — WeChat's server answering garbage, an error, slowly,
or with a huge body: login answers 503 wechat_unavailable within the budget, never a 500 or a
hang, and nothing of the third party's answer leaks to the caller."""

from __future__ import annotations

import time

import httpx

from tests.security.world import World


def test_wechat_misbehaving_gives_503_never_500(world: World) -> None:
    for code in ("garbage", "busy", "huge", "slow"):
        start = time.monotonic()
        resp = world.call("POST", "/api/v1/auth/wechat/login", json={"code": code})
        elapsed = time.monotonic() - start
        assert resp.status_code == 503, f"{code}: {resp.status_code} {resp.text[:200]}"
        assert resp.json()["code"] == "wechat_unavailable", code
        assert "<html>" not in resp.text and "xxxx" not in resp.text and "errcode" not in resp.text
        # IDENTITY_WECHAT_TIMEOUT is 2 s in this stack; the gateway's budget for /auth is 5 s.
        assert elapsed < 5, f"{code} took {elapsed:.1f}s"


def test_wechat_quota_errors_become_our_429(world: World) -> None:
    resp = world.call("POST", "/api/v1/auth/wechat/login", json={"code": "ratelimited"})
    assert resp.status_code == 429 and int(resp.headers["retry-after"]) > 0 and "45011" not in resp.text


def test_wechat_answers_are_never_trusted_blindly(world: World) -> None:
    # A real code works (the control); a code WeChat calls invalid is a 401, not a 500.
    httpx.post(f"{world.wechat}/_fake/login_codes", json={"good-code-1": "openid-sec-1"}, timeout=5)
    resp = world.call("POST", "/api/v1/auth/wechat/login", json={"code": "good-code-1"})
    assert resp.status_code == 200 and "session_key" not in resp.text and "openid" not in resp.text
    resp = world.call("POST", "/api/v1/auth/wechat/login", json={"code": "good-code-1"})  # used once
    assert resp.status_code == 401 and resp.json()["code"] == "wechat_code_invalid"
    resp = world.call("POST", "/api/v1/auth/wechat/login", json={"code": "x" * 5000})
    assert resp.status_code in (401, 422)
