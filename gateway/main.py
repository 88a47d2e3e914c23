"""The gateway: the only public door. A pure ASGI app (no framework on the hot path): request id,
token check at the door, prefix routing to the services, /home fan-out, health and metrics."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx
import orjson
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.types import Message, Receive, Scope, Send

from gateway.breaker import CircuitBreaker
from gateway.config import ROUTES, GatewaySettings
from gateway.home import build_home
from gateway.proxy import HOP_BY_HOP, Upstream, send_problem
from services.common.auth import TokenVerifier
from services.common.errors import ProblemError
from services.common.logging import configure_logging, request_id_var
from services.common.middleware import incoming_request_id

access_log = logging.getLogger("smartunion.access")
REQUESTS = Counter("smartunion_gateway_requests_total", "gateway requests", ["route", "method", "status"])
LATENCY = Histogram("smartunion_gateway_request_seconds", "gateway latency", ["route"],
                    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))

API_PREFIX = "/api/v1/"


def _is_upload(method: str, path: str) -> bool:
    return method == "POST" and path.startswith("/api/v1/legal/tickets/") and path.endswith("/attachments")


class Gateway:
    def __init__(self, settings: GatewaySettings | None = None, *, verifier: TokenVerifier | None = None) -> None:
        self.settings = settings or GatewaySettings()
        self._given_verifier = verifier
        self.verifier: TokenVerifier | None = verifier
        self.upstreams: dict[str, Upstream] = {}
        self._http: httpx.AsyncClient | None = None

    # -- lifespan -----------------------------------------------------------------------------------
    async def startup(self) -> None:
        s = self.settings
        configure_logging("gateway", s.log_level)
        for name, url in s.upstream_urls().items():
            upstream = Upstream(name, url, connect_timeout=s.connect_timeout,
                                breaker=CircuitBreaker(s.breaker_failures, s.breaker_open_seconds),
                                max_inflight=s.max_inflight_per_upstream)
            await upstream.start()
            self.upstreams[name] = upstream
        if self._given_verifier is None:
            self._http = httpx.AsyncClient()
            identity = s.upstream_urls()["identity"]
            self.verifier = TokenVerifier(f"{identity}/.well-known/jwks.json",
                                          revocations_url=f"{identity}/internal/revocations", client=self._http)
            self.verifier.start()

    async def shutdown(self) -> None:
        if self.verifier is not None and self._given_verifier is None:
            await self.verifier.stop()
        for upstream in self.upstreams.values():
            await upstream.close()
        if self._http is not None:
            await self._http.aclose()

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    # -- requests -----------------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        rid = incoming_request_id(scope)
        token = request_id_var.set(rid)
        start = time.perf_counter()
        status = [500]
        rid_header = (b"x-request-id", rid.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                message["headers"] = [*message.get("headers", []), rid_header, *SECURITY_HEADERS]
            await send(message)

        route = "unmatched"
        try:
            route = await self._dispatch(scope, receive, send_with_id, rid)
        except Exception:
            access_log.exception("gateway error")
            if status[0] == 500:
                await send_problem(send_with_id, 500, "internal_error", "网关内部错误")
        finally:
            elapsed = time.perf_counter() - start
            REQUESTS.labels(route, scope["method"], str(status[0])).inc()
            LATENCY.labels(route).observe(elapsed)
            access_log.info("request", extra={"fields": {"method": scope["method"], "route": route,
                                                         "status": status[0], "ms": round(elapsed * 1000, 2)}})
            request_id_var.reset(token)

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send, rid: str) -> str:
        path: str = scope["path"]
        if path == "/healthz":
            await _send_json(send, 200, {"status": "ok"})
            return "/healthz"
        if path == "/readyz":
            await self._readyz(send)
            return "/readyz"
        if path == "/metrics":
            await _send_bytes(send, 200, generate_latest(), CONTENT_TYPE_LATEST.encode())
            return "/metrics"
        if not path.startswith(API_PREFIX):
            await send_problem(send, 404, "not_found", "未找到")
            return "unmatched"
        segment = path[len(API_PREFIX):].split("/", 1)[0]
        principal = None
        auth = _header(scope, b"authorization")
        if auth is not None:
            scheme, _, raw = auth.partition(" ")
            if scheme.lower() != "bearer" or not raw.strip():
                await send_problem(send, 401, "unauthenticated", "访问令牌无效")
                return segment
            assert self.verifier is not None
            try:
                principal = await self.verifier.verify(raw.strip())
            except ProblemError as exc:
                await send_problem(send, exc.status, exc.code, exc.detail)
                return segment
        if segment == "home" and path.rstrip("/") == "/api/v1/home":
            if scope["method"] != "GET":
                await send_problem(send, 405, "method_not_allowed", "方法不允许")
            elif principal is None:
                await send_problem(send, 401, "unauthenticated", "需要登录")
            else:
                home_headers = {"authorization": f"Bearer {principal.token}", "x-request-id": rid}
                body = await build_home(self.upstreams, home_headers, self.settings.home_part_timeout)
                await _send_json(send, 200, body)
            return "/api/v1/home"
        service = ROUTES.get(segment)
        if service is None:
            await send_problem(send, 404, "not_found", "未找到")
            return "unmatched"
        client = scope.get("client")
        peer = client[0] if client else "unknown"
        headers = [(k, v) for k, v in scope["headers"] if k not in HOP_BY_HOP]
        headers += [(b"x-request-id", rid.encode()), (b"x-real-ip", peer.encode()),
                    (b"x-forwarded-for", peer.encode())]
        upload = _is_upload(scope["method"], path)
        s = self.settings
        await self.upstreams[service].forward(
            scope, receive, send, headers=headers,
            max_body=s.max_upload_body if upload else s.max_json_body,
            read_timeout=s.upload_read_timeout if upload else s.read_timeout)
        return f"/api/v1/{segment}"

    async def _readyz(self, send: Send) -> None:
        async def probe(upstream: Upstream) -> bool:
            assert upstream.session is not None
            try:
                async with upstream.session.get(upstream.base_url + "/readyz",
                                                timeout=_timeout(1.0)) as resp:
                    return resp.status == 200
            except Exception:
                return False

        names = list(self.upstreams)
        results = await asyncio.gather(*(probe(self.upstreams[n]) for n in names))
        checks = {n: "ok" if ok else "unavailable" for n, ok in zip(names, results, strict=True)}
        ready = all(results)
        await _send_json(send, 200 if ready else 503, {"status": "ready" if ready else "not_ready",
                                                       "upstreams": checks})


SECURITY_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"no-referrer")]


def _timeout(total: float) -> Any:
    import aiohttp

    return aiohttp.ClientTimeout(total=total)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def _send_bytes(send: Send, status: int, body: bytes, content_type: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def _send_json(send: Send, status: int, data: Any) -> None:
    await _send_bytes(send, status, orjson.dumps(data), b"application/json")


def create_app(settings: GatewaySettings | None = None, *, verifier: TokenVerifier | None = None) -> Gateway:
    return Gateway(settings, verifier=verifier)
