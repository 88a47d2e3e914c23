"""Calls to other services: one pooled client per target, the request id passed on, a service
token attached, and failures mapped to 503 so a sick neighbour never becomes our 500."""

from __future__ import annotations

from typing import Any

import httpx

from services.common.errors import ProblemError, ServiceUnavailable
from services.common.internal_auth import ServiceSigner
from services.common.logging import request_id_var


class ServiceClient:
    def __init__(self, name: str, base_url: str, signer: ServiceSigner, *,
                 transport: httpx.AsyncBaseTransport | None = None, timeout: float = 3.0) -> None:
        self.name = name
        self._signer = signer
        self._client = httpx.AsyncClient(
            base_url=base_url, transport=transport,
            timeout=httpx.Timeout(timeout, connect=1.0),
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=50),
        )

    async def request(self, method: str, path: str, *, json: Any = None, params: Any = None,
                      user_token: str | None = None) -> httpx.Response:
        headers = {"x-service-token": self._signer.token_for(self.name)}
        if rid := request_id_var.get():
            headers["x-request-id"] = rid
        if user_token:
            headers["authorization"] = f"Bearer {user_token}"
        try:
            return await self._client.request(method, path, json=json, params=params, headers=headers)
        except httpx.HTTPError:
            raise ServiceUnavailable(f"{self.name} 服务暂时不可用", code="upstream_unavailable") from None

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
        await self._client.aclose()


class OrgDirectory:
    """Org paths from the membership service, cached: an org never moves once created, so its
    materialised path is immutable. Used for "is X inside Y's subtree" as a string prefix test."""

    def __init__(self, membership: ServiceClient) -> None:
        self._membership = membership
        self._cache: dict[str, dict[str, Any]] = {}

    async def get(self, org_id: str) -> dict[str, Any] | None:
        if org_id in self._cache:
            return self._cache[org_id]
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
