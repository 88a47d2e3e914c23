"""WeChat's server API, spoken as WeChat documents it:

- GET  /sns/jscode2session?appid&secret&js_code&grant_type=authorization_code
- GET  /cgi-bin/token?grant_type=client_credential&appid&secret   (cached until near expiry)
- POST /wxa/business/getuserphonenumber?access_token=…  {"code": …}

WeChat answers HTTP 200 with an `errcode` on failure. 40029 (invalid code) and 40163 (code
been used) are the user's problem (401); 45011 is WeChat's rate limit (429); anything else, a
timeout, or a body that is not the documented JSON is WeChat being unavailable (503).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx

from services.identity.wechat.errors import WechatCodeInvalid, WechatRateLimited, WechatUnavailable

_CODE_INVALID = {40029, 40163}
_TOKEN_EXPIRED = {40001, 42001}
MAX_BODY = 64 * 1024


class _TokenExpired(WechatUnavailable):
    """Our cached access_token was refused; fetch a new one and try once more."""


@dataclass(frozen=True)
class Session:
    openid: str
    session_key: str
    unionid: str | None


class WechatClient:
    def __init__(self, *, appid: str, secret: str, base_url: str, timeout: float,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._appid = appid
        self._secret = secret
        self._http = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout, transport=transport,
                                       follow_redirects=False)
        self._access_token: tuple[str, float] | None = None
        self._token_lock = asyncio.Lock()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            resp = await self._http.request(method, path, **kwargs)
        except httpx.HTTPError:
            raise WechatUnavailable from None
        if resp.status_code != 200 or len(resp.content) > MAX_BODY:
            raise WechatUnavailable
        try:
            data = resp.json()
        except ValueError:
            raise WechatUnavailable from None
        if not isinstance(data, dict):
            raise WechatUnavailable
        errcode = data.get("errcode", 0)
        if errcode in _CODE_INVALID:
            raise WechatCodeInvalid
        if errcode == 45011:
            raise WechatRateLimited
        if errcode in _TOKEN_EXPIRED:
            self._access_token = None
            raise _TokenExpired
        if errcode not in (0, None):
            raise WechatUnavailable
        return data

    async def code2session(self, js_code: str) -> Session:
        data = await self._call("GET", "/sns/jscode2session", params={
            "appid": self._appid, "secret": self._secret, "js_code": js_code,
            "grant_type": "authorization_code"})
        openid, session_key = data.get("openid"), data.get("session_key")
        if not isinstance(openid, str) or not isinstance(session_key, str) or not openid or len(openid) > 128:
            raise WechatUnavailable
        unionid = data.get("unionid")
        return Session(openid, session_key, unionid if isinstance(unionid, str) else None)

    async def access_token(self) -> str:
        async with self._token_lock:
            if self._access_token and self._access_token[1] > time.monotonic():
                return self._access_token[0]
            data = await self._call("GET", "/cgi-bin/token", params={
                "grant_type": "client_credential", "appid": self._appid, "secret": self._secret})
            token, expires_in = data.get("access_token"), data.get("expires_in", 7200)
            if not isinstance(token, str) or not isinstance(expires_in, int):
                raise WechatUnavailable
            # Refresh five minutes early: WeChat keeps the old token valid for a short overlap.
            self._access_token = (token, time.monotonic() + max(60, expires_in - 300))
            return token

    async def phone_number(self, code: str) -> str:
        for _ in range(2):
            token = await self.access_token()
            try:
                data = await self._call("POST", "/wxa/business/getuserphonenumber",
                                        params={"access_token": token}, json={"code": code})
            except _TokenExpired:
                continue
            info = data.get("phone_info")
            phone = info.get("purePhoneNumber") if isinstance(info, dict) else None
            if not isinstance(phone, str):
                raise WechatUnavailable
            return phone
        raise WechatUnavailable

    async def send_subscribe_message(self, payload: dict[str, Any]) -> None:
        token = await self.access_token()
        await self._call("POST", "/cgi-bin/message/subscribe/send", params={"access_token": token}, json=payload)
