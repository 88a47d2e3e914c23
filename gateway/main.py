"""The gateway: the only public door. A pure ASGI app (no framework on the hot path): request id,
token check at the door, rate limits, prefix routing to the services, /home fan-out, one merged
OpenAPI document, health and metrics."""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from typing import Any

import httpx
import orjson
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.types import Message, Receive, Scope, Send

from gateway.accesslog import AccessLog
from gateway.breaker import CircuitBreaker
from gateway.config import HEALTH_PREFIX, ROUTES, GatewaySettings
from gateway.home import build_home
from gateway.openapi import OpenApiMerger, docs_page
from gateway.proxy import HOP_BY_HOP, Upstream, send_problem
from gateway.ratelimit import Limiter, Policy, make_limiter
from services.common.auth import TokenVerifier
from services.common.errors import ProblemError
from services.common.internal_auth import ServiceSigner
from services.common.logging import configure_logging, request_id_var
from services.common.middleware import incoming_request_id

logger = logging.getLogger("smartunion.gateway")
REQUESTS = Counter("smartunion_gateway_requests_total", "gateway requests", ["route", "method", "status"])
LATENCY = Histogram("smartunion_gateway_request_seconds", "gateway latency", ["route"],
                    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
RATE_LIMITED = Counter("smartunion_gateway_rate_limited_total", "requests refused with 429", ["policy"])

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
        self.limiter: Limiter | None = None
        self.openapi: OpenApiMerger | None = None
        s = self.settings
        scale = s.rate_limit_scale

        def policy(name: str, quota: int) -> Policy:
            return Policy(name, max(1, round(quota * scale)), s.rate_limit_window)

        self.policy_ip = policy("ip", s.rate_limit_ip)
        self.policy_account = policy("account", s.rate_limit_account)
        self.policy_merchant = policy("merchant", s.rate_limit_merchant)
        self.policy_auth = policy("auth", s.rate_limit_auth_ip)
        self.trusted_proxies = frozenset(s.trusted_proxies)
        self.cors_origins = frozenset(o.rstrip("/") for o in s.cors_origins)
        self.on = s.middleware_enabled
        self.access = AccessLog(enabled=self.on)

    # -- lifespan -----------------------------------------------------------------------------------
    async def startup(self) -> None:
        s = self.settings
        configure_logging("gateway", s.log_level)
        self.access.enabled = self.on and logging.getLogger("smartunion.access").isEnabledFor(logging.INFO)
        self.limiter = make_limiter(s.redis_url, s.redis_namespace)
        for name, url in s.upstream_urls().items():
            upstream = Upstream(name, url, connect_timeout=s.connect_timeout,
                                breaker=CircuitBreaker(s.breaker_failures, s.breaker_open_seconds),
                                max_inflight=s.max_inflight_per_upstream)
            await upstream.start()
            self.upstreams[name] = upstream
        if self._given_verifier is None:
            # /internal/revocations wants a service token like every internal route.
            signer = ServiceSigner(s.resolved_internal_secret(), "gateway")

            async def sign(request: httpx.Request) -> None:
                request.headers["x-service-token"] = signer.token_for("identity")

            self._http = httpx.AsyncClient(event_hooks={"request": [sign]})
            identity = s.upstream_urls()["identity"]
            self.verifier = TokenVerifier(f"{identity}/.well-known/jwks.json",
                                          revocations_url=f"{identity}/internal/revocations", client=self._http)
            self.verifier.start()
        self.openapi = OpenApiMerger({n: u.base_url for n, u in self.upstreams.items()},
                                     session=self.upstreams["identity"].session, ttl=s.openapi_ttl)

    async def shutdown(self) -> None:
        if self.verifier is not None and self._given_verifier is None:
            await self.verifier.stop()
        for upstream in self.upstreams.values():
            await upstream.close()
        if self._http is not None:
            await self._http.aclose()
        if self.limiter is not None:
            await self.limiter.aclose()
        self.access.flush()

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
        extra_headers = [(b"x-request-id", rid.encode()), *SECURITY_HEADERS]

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                headers = message.get("headers", [])
                present = {name for name, _ in headers}
                # An upstream's own security header (e.g. nosniff on downloads) is not repeated.
                message["headers"] = [*headers, *(h for h in extra_headers if h[0] not in present)]
            await send(message)

        route = "unmatched"
        origin = _header(scope, b"origin")
        try:
            if origin is not None:
                allowed = origin in self.cors_origins
                if scope["method"] == "OPTIONS" and _header(scope, b"access-control-request-method"):
                    await self._preflight(send_with_id, origin, allowed)
                    return
                if allowed:
                    extra_headers += [(b"access-control-allow-origin", origin.encode("latin-1")),
                                      (b"access-control-expose-headers", b"X-Request-ID, Retry-After"),
                                      (b"vary", b"Origin")]
            route = await self._dispatch(scope, receive, send_with_id, rid, extra_headers)
        except Exception:
            logger.exception("gateway error")
            if status[0] == 500:
                await send_problem(send_with_id, 500, "internal_error", "网关内部错误")
        finally:
            if self.on:
                elapsed = time.perf_counter() - start
                REQUESTS.labels(route, scope["method"], str(status[0])).inc()
                LATENCY.labels(route).observe(elapsed)
                self.access.write(rid, scope["method"], route, status[0], round(elapsed * 1000, 2))
            request_id_var.reset(token)

    async def _preflight(self, send: Send, origin: str, allowed: bool) -> None:
        """CORS preflight, answered here (never forwarded): only listed origins get the allow
        headers; any other origin gets a 403 without them, so the browser blocks the call."""
        if not allowed:
            await send_problem(send, 403, "origin_not_allowed", "不允许的跨域来源")
            return
        headers = [(b"access-control-allow-origin", origin.encode("latin-1")), (b"vary", b"Origin"),
                   (b"access-control-allow-methods", b"GET, POST, PATCH, PUT, DELETE"),
                   (b"access-control-allow-headers",
                    b"Authorization, Content-Type, Idempotency-Key, X-Request-ID"),
                   (b"access-control-max-age", b"600"), (b"content-length", b"0")]
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send, rid: str,
                        extra_headers: list[tuple[bytes, bytes]]) -> str:
        path: str = scope["path"]
        if not path.startswith(API_PREFIX):
            return await self._operational(scope, send, path)
        segment = path[len(API_PREFIX):].split("/", 1)[0]
        service = ROUTES.get(segment)
        route = f"/api/v1/{segment}" if service else "unmatched"
        client_ip = self._client_ip(scope)
        principal = None
        auth_error: ProblemError | None = None
        if self.on:
            auth = _header(scope, b"authorization")
            if auth is not None:
                scheme, _, raw = auth.partition(" ")
                if scheme.lower() != "bearer" or not raw.strip():
                    auth_error = ProblemError("访问令牌无效", code="unauthenticated", status=401)
                else:
                    assert self.verifier is not None
                    try:
                        principal = await self.verifier.verify(raw.strip())
                    except ProblemError as exc:
                        auth_error = exc
            # Limits come before the verdict on the token, so floods of forged tokens are limited too.
            assert self.limiter is not None
            checks = [(self.policy_ip, client_ip)]
            if segment == "auth":
                checks.append((self.policy_auth, client_ip))
            if principal is not None:
                checks.append((self.policy_account, principal.account_id))
            merchant_key = _header(scope, b"x-merchant-key")
            if merchant_key:
                checks.append((self.policy_merchant, merchant_key[:128]))
            verdict = await self.limiter.check(checks)
            extra_headers.extend(verdict.headers([p for p, _ in checks]))
            if not verdict.allowed:
                RATE_LIMITED.labels(verdict.policy.name).inc()
                await send_problem(send, 429, "rate_limited", "请求过于频繁，请稍后再试",
                                   retry_after=verdict.retry_after)
                return route
            if auth_error is not None:
                await send_problem(send, auth_error.status, auth_error.code, auth_error.detail)
                return route
        if service is None:
            return await self._gateway_route(scope, send, path, segment, principal, rid, client_ip)
        headers = [(k, v) for k, v in scope["headers"] if k not in HOP_BY_HOP]
        peer = client_ip.encode()
        headers += [(b"x-request-id", rid.encode()), (b"x-real-ip", peer), (b"x-forwarded-for", peer)]
        upload = _is_upload(scope["method"], path)
        s = self.settings
        if upload:
            max_body, read_timeout = s.max_upload_body, s.upload_read_timeout
        else:
            max_body, read_timeout = s.max_json_body, s.route_read_timeouts.get(segment, s.read_timeout)
        await self.upstreams[service].forward(scope, receive, send, headers=headers, max_body=max_body,
                                              read_timeout=read_timeout)
        return route

    async def _gateway_route(self, scope: Scope, send: Send, path: str, segment: str, principal: Any,
                             rid: str, client_ip: str) -> str:
        """/api/v1 paths the gateway answers itself: /home, /openapi.json, /health/{service}."""
        method = scope["method"]
        if segment == "home" and path.rstrip("/") == "/api/v1/home":
            if method != "GET":
                await send_problem(send, 405, "method_not_allowed", "方法不允许")
            elif principal is None:
                await send_problem(send, 401, "unauthenticated", "需要登录")
            else:
                home_headers = {"authorization": f"Bearer {principal.token}", "x-request-id": rid,
                                "x-real-ip": client_ip}
                body = await build_home(self.upstreams, home_headers, self.settings.home_part_timeout)
                await _send_json(send, 200, body)
            return "/api/v1/home"
        if path == "/api/v1/openapi.json" and method in ("GET", "HEAD"):
            assert self.openapi is not None
            await _send_bytes(send, 200, await self.openapi.document(), b"application/json")
            return "/api/v1/openapi.json"
        if segment == HEALTH_PREFIX and method in ("GET", "HEAD"):
            name = path[len(API_PREFIX) + len(HEALTH_PREFIX) + 1:]
            upstream = self.upstreams.get(name)
            if upstream is not None:
                fake = {**scope, "path": "/healthz", "raw_path": b"/healthz", "query_string": b""}
                headers = [(b"x-request-id", rid.encode())]
                await upstream.forward(fake, _empty_receive, send, headers=headers, max_body=0,
                                       read_timeout=self.settings.route_read_timeouts.get(HEALTH_PREFIX, 2.0))
                return "/api/v1/health"
        await send_problem(send, 404, "not_found", "未找到")
        return "unmatched"

    async def _operational(self, scope: Scope, send: Send, path: str) -> str:
        if path == "/healthz":
            await _send_json(send, 200, {"status": "ok"})
            return "/healthz"
        if path == "/readyz":
            await self._readyz(send)
            return "/readyz"
        if path == "/metrics" and self._may_scrape(scope):
            await _send_bytes(send, 200, generate_latest(), CONTENT_TYPE_LATEST.encode())
            return "/metrics"
        if path in ("/api/docs", "/api/docs/") and self.settings.docs_on:
            await _send_bytes(send, 200, docs_page("/api/v1/openapi.json"), b"text/html; charset=utf-8")
            return "/api/docs"
        await send_problem(send, 404, "not_found", "未找到")
        return "unmatched"

    def _may_scrape(self, scope: Scope) -> bool:
        """Metrics name routes, upstreams and volumes: for the operator, not the public."""
        token = self.settings.metrics_token
        if token:
            auth = _header(scope, b"authorization") or ""
            if hmac.compare_digest(auth.encode(), f"Bearer {token}".encode()):
                return True
        client = scope.get("client")
        peer = client[0] if client else ""
        relayed = _header(scope, b"x-forwarded-for") is not None or _header(scope, b"forwarded") is not None
        return peer in ("127.0.0.1", "::1") and not relayed

    def _client_ip(self, scope: Scope) -> str:
        client = scope.get("client")
        peer = client[0] if client else "unknown"
        if peer in self.trusted_proxies:
            forwarded = _header(scope, b"x-forwarded-for")
            if forwarded:
                # The right-most address our own proxies did not add is the client.
                for hop in reversed([h.strip() for h in forwarded.split(",")]):
                    if hop and hop not in self.trusted_proxies:
                        return hop
        return str(peer)

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


async def _empty_receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


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
