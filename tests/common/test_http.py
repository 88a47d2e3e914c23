"""ServiceClient over a real socket (aiohttp), as the services use it outside tests."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from services.common.errors import ProblemError, ServiceUnavailable
from services.common.http import ServiceClient
from services.common.internal_auth import ServiceSigner
from services.common.logging import request_id_var
from tests.stack import free_port

SECRET = "test-internal-secret-0123456789abcdef"


async def _echo(request: web.Request) -> web.Response:
    body = await request.read()
    return web.json_response({"method": request.method, "path": request.path, "query": dict(request.query),
                              "body": json.loads(body) if body else None,
                              "service_token": request.headers.get("x-service-token"),
                              "request_id": request.headers.get("x-request-id"),
                              "authorization": request.headers.get("authorization")})


async def _problem(_: web.Request) -> web.Response:
    return web.json_response({"code": "not_a_member", "detail": "还不是工会会员"}, status=404)


async def _boom(_: web.Request) -> web.Response:
    return web.Response(status=500, text="oops")


async def _slow(_: web.Request) -> web.Response:
    await asyncio.sleep(2)
    return web.json_response({})


async def _chunked(request: web.Request) -> web.StreamResponse:
    resp = web.StreamResponse(headers={"content-type": "application/json"})
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    for part in (b'{"parts": [', b'"a", ', b'"b"]}'):
        await resp.write(part)
    await resp.write_eof()
    return resp


@pytest.fixture
async def server() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/chunked", _chunked)
    app.router.add_route("*", "/echo", _echo)
    app.router.add_get("/problem", _problem)
    app.router.add_get("/boom", _boom)
    app.router.add_get("/slow", _slow)
    runner = web.AppRunner(app, keepalive_timeout=0.3)  # closes idle keep-alive connections quickly
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_request_carries_token_request_id_json_and_query(server: str) -> None:
    signer = ServiceSigner(SECRET, "benefits")
    client = ServiceClient("membership", server, signer)
    token = request_id_var.set("rid-123")
    try:
        resp = await client.request("POST", "/echo", json={"token": "二维码"}, params={"limit": 5, "skip": None},
                                    user_token="abc")
    finally:
        request_id_var.reset(token)
        await client.aclose()
    assert resp.status_code == 200
    data = resp.json()
    assert data["method"] == "POST" and data["path"] == "/echo"
    assert data["query"] == {"limit": "5"}
    assert data["body"] == {"token": "二维码"}
    assert data["request_id"] == "rid-123" and data["authorization"] == "Bearer abc"
    assert ServiceSigner(SECRET, "membership").verify(data["service_token"], "membership")["iss"] == "benefits"


async def test_call_maps_answers(server: str) -> None:
    client = ServiceClient("membership", server, ServiceSigner(SECRET, "benefits"), timeout=0.5)
    try:
        with pytest.raises(ProblemError) as problem:
            await client.call("GET", "/problem")
        assert problem.value.code == "not_a_member" and problem.value.status == 404
        with pytest.raises(ServiceUnavailable):
            await client.call("GET", "/boom")
        with pytest.raises(ServiceUnavailable):
            await client.request("GET", "/slow")  # past the timeout
        assert (await client.call("GET", "/echo"))["method"] == "GET"  # the pool still works
    finally:
        await client.aclose()


async def test_nobody_listening_is_503() -> None:
    client = ServiceClient("membership", f"http://127.0.0.1:{free_port()}", ServiceSigner(SECRET, "benefits"))
    try:
        with pytest.raises(ServiceUnavailable) as exc:
            await client.request("GET", "/echo")
        assert exc.value.code == "upstream_unavailable"
    finally:
        await client.aclose()


async def test_chunked_answer_and_a_connection_the_server_closed_while_idle(server: str) -> None:
    client = ServiceClient("membership", server, ServiceSigner(SECRET, "benefits"))
    try:
        assert (await client.request("GET", "/chunked")).json() == {"parts": ["a", "b"]}
        await asyncio.sleep(0.6)  # the server drops the idle connection; the client still holds it
        resp = await client.request("POST", "/echo", json={"n": 1})
        assert resp.status_code == 200 and resp.json()["body"] == {"n": 1}
        answers = await asyncio.gather(*(client.request("GET", "/echo", params={"i": i}) for i in range(20)))
        assert [a.json()["query"]["i"] for a in answers] == [str(i) for i in range(20)]
    finally:
        await client.aclose()
