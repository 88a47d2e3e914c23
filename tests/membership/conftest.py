from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from services.common.internal_auth import ServiceSigner
from services.membership.applications.idcard import check_character
from services.membership.config import MembershipSettings
from services.membership.main import create_app
from tests.apps import TEST_INTERNAL_SECRET, running
from tests.tokens import TokenFactory


def id_number(seq: int, born: str = "19900307", region: str = "440106") -> str:
    """A valid GB 11643 number for tests (the check character computed, never hard-coded)."""
    first17 = f"{region}{born}{seq % 1000:03d}"
    return first17 + check_character(first17)


def service_headers(caller: str = "benefits") -> dict[str, str]:
    return {"x-service-token": ServiceSigner(TEST_INTERNAL_SECRET, caller).token_for("membership")}


@pytest.fixture
def membership_settings(db_url: Callable[[str], str], common_env: dict[str, object]) -> MembershipSettings:
    return MembershipSettings(database_url=db_url("membership"), **common_env)  # type: ignore[arg-type]


@pytest.fixture
async def membership(membership_settings: MembershipSettings, tokens: TokenFactory) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(membership_settings, verifier=tokens.verifier())) as client:
        yield client


@dataclass
class World:
    """Two cities under one province, a workplace union in each, their staff, an admin."""

    client: httpx.AsyncClient
    tokens: TokenFactory
    orgs: dict[str, str] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)
    admin: dict[str, str] = field(default_factory=dict)
    staff: dict[str, dict[str, str]] = field(default_factory=dict)
    seq: int = 0

    def user(self, account_id: str | None = None, **kwargs: Any) -> dict[str, str]:
        return self.tokens.headers(account_id, **kwargs)

    async def org(self, key: str, name: str, parent: str | None, headers: dict[str, str] | None = None) -> str:
        resp = await self.client.post("/api/v1/orgs", json={"name": name, "parent_id": self.orgs.get(parent or "")},
                                      headers=headers or self.admin)
        assert resp.status_code == 201, resp.text
        self.orgs[key] = resp.json()["id"]
        self.paths[key] = resp.json()["path"]
        return self.orgs[key]

    async def apply(self, headers: dict[str, str], org: str = "gz_metro", **overrides: Any) -> httpx.Response:
        self.seq += 1
        body = {"real_name": "张三丰", "id_number": id_number(self.seq), "org_id": self.orgs[org],
                "employer_name": "广州地铁集团有限公司", **overrides}
        return await self.client.post("/api/v1/membership/applications", json=body, headers=headers)

    async def member(self, org: str = "gz_metro", staff: str = "guangzhou", **overrides: Any
                     ) -> tuple[dict[str, str], dict[str, Any]]:
        """A new user who applied and was approved: (their headers, the approved application)."""
        headers = self.user()
        resp = await self.apply(headers, org, **overrides)
        assert resp.status_code == 201, resp.text
        resp = await self.client.post(f"/api/v1/membership/applications/{resp.json()['id']}/approve",
                                      headers=self.staff[staff])
        assert resp.status_code == 200, resp.text
        return headers, resp.json()

    async def qr(self, headers: dict[str, str]) -> str:
        resp = await self.client.post("/api/v1/membership/me/qr", headers=headers)
        assert resp.status_code == 201, resp.text
        return str(resp.json()["token"])

    async def internal(self, path: str, body: dict[str, Any], caller: str = "benefits") -> httpx.Response:
        return await self.client.post(path, json=body, headers=service_headers(caller))


async def build_world(client: httpx.AsyncClient, tokens: TokenFactory) -> World:
    w = World(client=client, tokens=tokens)
    w.admin = tokens.headers(roles=["admin"], phone_masked=None)
    await w.org("national", "中华全国总工会", None)
    await w.org("guangdong", "广东省总工会", "national")
    await w.org("guangzhou", "广州市总工会", "guangdong")
    await w.org("shenzhen", "深圳市总工会", "guangdong")
    await w.org("gz_metro", "广州地铁集团工会", "guangzhou")
    await w.org("gz_airport", "广州白云国际机场工会", "guangzhou")
    await w.org("sz_port", "深圳港集团工会", "shenzhen")
    for city in ("guangzhou", "shenzhen", "guangdong", "gz_metro"):
        w.staff[city] = tokens.headers(roles=["staff"], org_id=w.orgs[city], phone_masked=None)
    return w


@pytest.fixture
async def world(membership: httpx.AsyncClient, tokens: TokenFactory) -> World:
    return await build_world(membership, tokens)
