"""The membership service's internal API, as this service uses it: QR check / consume / release
and the member behind an account. Any failure of membership becomes 503 upstream_unavailable."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.common.errors import NotFound, ServiceUnavailable
from services.common.http import ServiceClient


@dataclass(frozen=True, slots=True)
class QrMember:
    member_id: str
    account_id: str | None
    status: str
    name_masked: str | None
    card_no_masked: str | None
    org_id: str | None
    org_name: str | None
    org_path: str | None


@dataclass(frozen=True, slots=True)
class QrResult:
    valid: bool
    reason: str | None
    member: QrMember | None


def _member(data: dict[str, Any] | None) -> QrMember | None:
    if not data:
        return None
    return QrMember(member_id=str(data["member_id"]), account_id=data.get("account_id"),
                    status=str(data.get("status", "")), name_masked=data.get("name_masked"),
                    card_no_masked=data.get("card_no_masked"), org_id=data.get("org_id"),
                    org_name=data.get("org_name"), org_path=data.get("org_path"))


class MembershipClient:
    def __init__(self, client: ServiceClient) -> None:
        self._client = client

    async def _qr(self, action: str, token: str) -> dict[str, Any]:
        resp = await self._client.request("POST", f"/internal/qr/{action}", json={"token": token})
        if resp.status_code != 200:
            raise ServiceUnavailable("membership 服务暂时不可用", code="upstream_unavailable")
        try:
            data: dict[str, Any] = resp.json()
        except ValueError:
            raise ServiceUnavailable("membership 返回了无法解析的应答", code="upstream_unavailable") from None
        return data

    async def check(self, token: str) -> QrResult:
        data = await self._qr("check", token)
        return QrResult(valid=bool(data.get("valid")), reason=data.get("reason"), member=_member(data.get("member")))

    async def consume(self, token: str) -> QrResult:
        data = await self._qr("consume", token)
        return QrResult(valid=bool(data.get("valid")), reason=data.get("reason"), member=_member(data.get("member")))

    async def release(self, token: str) -> bool:
        data = await self._qr("release", token)
        return bool(data.get("released"))

    async def member_by_account(self, account_id: str) -> dict[str, Any]:
        resp = await self._client.request("GET", f"/internal/members/by-account/{account_id}")
        if resp.status_code == 404:
            raise NotFound("还不是工会会员", code="not_a_member")
        if resp.status_code != 200:
            raise ServiceUnavailable("membership 服务暂时不可用", code="upstream_unavailable")
        data: dict[str, Any] = resp.json()
        return data
