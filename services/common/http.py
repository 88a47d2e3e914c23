"""Calls to other services: one pooled client per target, the request id passed on, a service
token attached, and failures mapped to 503 so a sick neighbour never becomes our 500.

Over plain HTTP the client is `services.common.fasthttp` (keep-alive, httptools): httpx's pool is
slow under concurrency (DESIGN.md; in a profile of the merchant verify path httpx was a third of
the benefits service's CPU, aiohttp's client still a fifth). Tests inject an
`httpx.ASGITransport` to run the callee in-process, and then httpx is used (as for https URLs).
Either way the caller gets an answer with `status_code`, `content`, `headers` and `json()`.
"""

from __future__ import annotations

import re
from typing import Any, Protocol
from urllib.parse import quote, urlencode, urlsplit

import httpx
import orjson

from services.common import fasthttp
from services.common.errors import ProblemError, ServiceUnavailable
from services.common.internal_auth import ServiceSigner
from services.common.logging import request_id_var


class ServiceResponse(Protocol):
    """What callers may use of an answer (httpx.Response has it too)."""

    @property
    def status_code(self) -> int: ...

    @property
    def content(self) -> bytes: ...

    def json(self) -> Any: ...


class _Answer:
    __slots__ = ("content", "headers", "status_code")

    def __init__(self, status_code: int, content: bytes, headers: Any) -> None:
        self.status_code = status_code
        self.content = content
        self.headers = headers

    def json(self) -> Any:
        return orjson.loads(self.content)  # orjson.JSONDecodeError is a ValueError


class ServiceClient:
    def __init__(self, name: str, base_url: str, signer: ServiceSigner, *,
                 transport: httpx.AsyncBaseTransport | None = None, timeout: float = 3.0) -> None:
        self.name = name
        self._signer = signer
        self._timeout = timeout
        self._client: httpx.AsyncClient | None = None
        self._pool: fasthttp.Pool | None = None
        url = urlsplit(base_url)
        self._prefix = url.path.rstrip("/")
        if transport is not None or url.scheme != "http" or not url.hostname:
            self._client = httpx.AsyncClient(base_url=base_url, transport=transport,
                                             timeout=httpx.Timeout(timeout, connect=1.0))
        else:
            self._pool = fasthttp.Pool(url.hostname, url.port or 80, connect_timeout=1.0)

    async def request(self, method: str, path: str, *, json: Any = None, params: Any = None,
                      user_token: str | None = None) -> ServiceResponse:
        headers = {"x-service-token": self._signer.token_for(self.name)}
        if rid := request_id_var.get():
            headers["x-request-id"] = rid
        if user_token:
            headers["authorization"] = f"Bearer {user_token}"
        if self._pool is None:
            assert self._client is not None
            try:
                return await self._client.request(method, path, json=json, params=params, headers=headers)
            except httpx.HTTPError:
                raise ServiceUnavailable(f"{self.name} 服务暂时不可用", code="upstream_unavailable") from None
        body = b""
        if json is not None:
            body = orjson.dumps(json)
            headers["content-type"] = "application/json"
        # The request line must be ASCII: anything else in a path is percent-encoded, never sent raw.
        target = quote(self._prefix + path, safe="/:@-._~")
        if params:
            query = urlencode({k: v for k, v in params.items() if v is not None})
            if query:
                target += ("&" if "?" in target else "?") + query
        try:
            status, answer_headers, content = await self._pool.request(
                method, target, list(headers.items()), body, timeout=self._timeout)
        except (TimeoutError, ConnectionError):
            raise ServiceUnavailable(f"{self.name} 服务暂时不可用", code="upstream_unavailable") from None
        return _Answer(status, content, answer_headers)

    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """Request and decode JSON; a problem answer from the callee is re-raised as ours."""
        resp = await self.request(method, path, **kwargs)
        if resp.status_code >= 500:
            raise ServiceUnavailable(f"{self.name} 服务暂时不可用", code="upstream_unavailable")
        if resp.status_code == 204:
            return None
        try:
            body = resp.json()
        except ValueError:
            raise ServiceUnavailable(f"{self.name} 返回了无法解析的应答", code="upstream_unavailable") from None
        if resp.status_code >= 400:
            raise ProblemError(body.get("detail"), code=body.get("code", "upstream_error"),
                               status=resp.status_code)
        return body

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
        if self._pool is not None:
            self._pool.close()


_OPAQUE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class OrgDirectory:
    """Org paths from the membership service, cached: an org never moves once created, so its
    materialised path is immutable. Used for "is X inside Y's subtree" as a string prefix test."""

    def __init__(self, membership: ServiceClient) -> None:
        self._membership = membership
        self._cache: dict[str, dict[str, Any]] = {}

    async def get(self, org_id: str) -> dict[str, Any] | None:
        if org_id in self._cache:
            return self._cache[org_id]
        if not _OPAQUE_ID.fullmatch(org_id):
            # Callers pass ids straight from request bodies; one that cannot be an id is unknown,
            # and never becomes part of an internal URL ("a/../b", spaces, non-ASCII).
            return None
        resp = await self._membership.request("GET", f"/internal/orgs/{org_id}")
        if resp.status_code == 404:
            return None
        if resp.status_code != 200:
            raise ServiceUnavailable("membership 服务暂时不可用", code="upstream_unavailable")
        org = resp.json()
        self._cache[org_id] = org
        return org

    async def path(self, org_id: str | None) -> str | None:
        if not org_id:
            return None
        org = await self.get(org_id)
        return org["path"] if org else None


def in_subtree(path: str | None, root_path: str | None) -> bool:
    return bool(path and root_path and path.startswith(root_path))
