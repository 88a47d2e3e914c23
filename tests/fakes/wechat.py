"""A local stand-in for WeChat's server API that answers as WeChat documents it, so the real
client code is exercised: HTTP 200 with `errcode` on failure, codes valid once (40163 on reuse,
40029 unknown), access_token with expires_in, 40001 for a wrong access_token, phone codes.

Test control (not part of WeChat's API): POST /_fake/login_codes {code: openid},
POST /_fake/phone_codes {code: phone}, GET /_fake/state. Special js_codes make it misbehave:
"busy" → errcode -1, "garbage" → a non-JSON body, "slow" → answers after 5 s, "huge" → 2 MB."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

APPID, SECRET = "wx-test-appid", "wx-test-secret"


def create_app() -> FastAPI:
    app = FastAPI()
    state: dict[str, Any] = {"login_codes": {}, "used": set(), "phone_codes": {}, "tokens": set(),
                             "token_fetches": 0, "messages": [], "calls": 0}
    app.state.fake = state

    def err(code: int, msg: str) -> JSONResponse:
        return JSONResponse({"errcode": code, "errmsg": msg})

    @app.get("/sns/jscode2session")
    async def jscode2session(appid: str, secret: str, js_code: str, grant_type: str) -> Response:
        state["calls"] += 1
        if appid != APPID or secret != SECRET or grant_type != "authorization_code":
            return err(40125, "invalid appsecret")
        if js_code == "busy":
            return err(-1, "system error")
        if js_code == "garbage":
            return PlainTextResponse("<html>502 Bad Gateway</html>")
        if js_code == "slow":
            await asyncio.sleep(5)
        if js_code == "huge":
            return PlainTextResponse("x" * 2_000_000)
        if js_code == "ratelimited":
            return err(45011, "api minute-quota reach limit")
        if js_code in state["used"]:
            return err(40163, "code been used")
        openid = state["login_codes"].get(js_code)
        if openid is None:
            return err(40029, "invalid code")
        state["used"].add(js_code)
        return JSONResponse({"openid": openid, "session_key": secrets.token_urlsafe(16),
                             "unionid": f"union-{openid}"})

    @app.get("/cgi-bin/token")
    async def token(grant_type: str, appid: str, secret: str) -> Response:
        if appid != APPID or secret != SECRET or grant_type != "client_credential":
            return err(40013, "invalid appid")
        state["token_fetches"] += 1
        value = secrets.token_urlsafe(24)
        state["tokens"].add(value)
        return JSONResponse({"access_token": value, "expires_in": 7200})

    @app.post("/wxa/business/getuserphonenumber")
    async def phone(access_token: str, request: Request) -> Response:
        if access_token not in state["tokens"]:
            return err(40001, "invalid credential, access_token is invalid or not latest")
        body = await request.json()
        phone_number = state["phone_codes"].pop(body.get("code"), None)
        if phone_number is None:
            return err(40029, "invalid code")
        return JSONResponse({"errcode": 0, "errmsg": "ok", "phone_info": {
            "phoneNumber": phone_number, "purePhoneNumber": phone_number, "countryCode": "86",
            "watermark": {"timestamp": 1700000000, "appid": APPID}}})

    @app.post("/cgi-bin/message/subscribe/send")
    async def subscribe_send(access_token: str, request: Request) -> Response:
        if access_token not in state["tokens"]:
            return err(40001, "invalid credential")
        state["messages"].append(await request.json())
        return err(0, "ok")

    @app.post("/_fake/login_codes")
    async def add_login_codes(request: Request) -> dict[str, str]:
        state["login_codes"].update(await request.json())
        return {"status": "ok"}

    @app.post("/_fake/phone_codes")
    async def add_phone_codes(request: Request) -> dict[str, str]:
        state["phone_codes"].update(await request.json())
        return {"status": "ok"}

    @app.get("/_fake/state")
    async def get_state() -> dict[str, Any]:
        return {"token_fetches": state["token_fetches"], "messages": state["messages"], "calls": state["calls"]}

    return app
