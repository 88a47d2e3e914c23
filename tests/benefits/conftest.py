"""The benefits service with the real membership service in-process (same token verifier, same
internal secret), and helpers: a union tree, approved members with QR codes, a signing POS."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from services.benefits.config import BenefitsSettings
from services.benefits.main import create_app
from services.benefits.merchant_api.signing import signed_headers
from services.membership.config import MembershipSettings
from services.membership.main import create_app as create_membership_app
from tests.apps import running, transport
from tests.tokens import TokenFactory

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(seq: int) -> str:
    """A valid GB 11643 ID number (check character computed)."""
    first17 = f"44010619900307{seq % 1000:03d}"
    return first17 + "10X98765432"[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


class Pos:
    """A merchant's POS: signs every request exactly as docs/benefits.md tells integrators to."""

    def __init__(self, client: httpx.AsyncClient, key_id: str, secret: str) -> None:
        self.client = client
        self.key_id = key_id
        self.secret = secret

    async def request(self, method: str, target: str, body: Any = None, *, headers: dict[str, str] | None = None,
                      **sign: Any) -> httpx.Response:
        raw = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
        h = signed_headers(self.key_id, self.secret, method, target, raw, **sign)
        if body is not None:
            h["content-type"] = "application/json"
        h.update(headers or {})
        return await self.client.request(method, target, content=raw, headers=h)

    async def verify(self, token: str) -> httpx.Response:
        return await self.request("POST", "/api/v1/merchant/verify", {"qr_token": token})

    async def redeem(self, token: str, offer_id: str, amount: int, key: str | None = None) -> httpx.Response:
        return await self.request("POST", "/api/v1/merchant/redemptions",
                                  {"qr_token": token, "offer_id": offer_id, "order_amount_fen": amount},
                                  headers={"Idempotency-Key": key or secrets.token_hex(8)})


@dataclass
class World:
    benefits: httpx.AsyncClient
    membership: httpx.AsyncClient
    tokens: TokenFactory
    app: Any = None
    orgs: dict[str, str] = field(default_factory=dict)
    admin: dict[str, str] = field(default_factory=dict)
    staff: dict[str, dict[str, str]] = field(default_factory=dict)
    seq: int = 0

    async def org(self, key: str, name: str, parent: str | None) -> str:
        resp = await self.membership.post("/api/v1/orgs", json={"name": name, "parent_id": self.orgs.get(parent or "")},
                                          headers=self.admin)
        assert resp.status_code == 201, resp.text
        self.orgs[key] = resp.json()["id"]
        return self.orgs[key]

    async def member(self, org: str = "gz_metro") -> tuple[dict[str, str], str]:
        """A new user who applied and was approved: (their headers, member id)."""
        headers = self.tokens.headers()
        self.seq += 1
        resp = await self.membership.post("/api/v1/membership/applications", headers=headers, json={
            "real_name": "张三丰", "id_number": id_number(self.seq), "org_id": self.orgs[org],
            "employer_name": "广州地铁集团有限公司"})
        assert resp.status_code == 201, resp.text
        resp = await self.membership.post(f"/api/v1/membership/applications/{resp.json()['id']}/approve",
                                          headers=self.admin)
        assert resp.status_code == 200, resp.text
        return headers, str(resp.json()["member_id"])

    async def qr(self, headers: dict[str, str]) -> str:
        resp = await self.membership.post("/api/v1/membership/me/qr", headers=headers)
        assert resp.status_code == 201, resp.text
        return str(resp.json()["token"])

    async def merchant(self, staff: str = "guangzhou", **overrides: Any) -> dict[str, Any]:
        body = {"name": "陶陶居酒家", "category": "food", "address": "广州市荔湾区第十甫路20号",
                "lat": 23.1180, "lng": 113.2460, "phone": "020-81396111", **overrides}
        resp = await self.benefits.post("/api/v1/benefits/merchants", json=body, headers=self.staff[staff])
        assert resp.status_code == 201, resp.text
        return dict(resp.json())

    async def pos(self, merchant_id: str, staff: str = "guangzhou") -> Pos:
        resp = await self.benefits.post(f"/api/v1/benefits/merchants/{merchant_id}/credentials",
                                        headers=self.staff[staff])
        assert resp.status_code == 201, resp.text
        return Pos(self.benefits, resp.json()["key_id"], resp.json()["secret"])

    async def offer(self, merchant_id: str, staff: str = "guangzhou", **overrides: Any) -> dict[str, Any]:
        now = datetime.now(UTC)
        body = {"merchant_id": merchant_id, "title": "会员九折", "description": "工会会员凭码享受",
                "discount_type": "percent_off", "value": 10, "min_spend_fen": 0, "max_discount_fen": None,
                "per_member_limit": 100, "limit_period": "total", "total_quota": None, "eligible_org_id": None,
                "starts_at": (now - timedelta(hours=1)).isoformat(), "ends_at": (now + timedelta(days=30)).isoformat(),
                **overrides}
        resp = await self.benefits.post("/api/v1/benefits/offers", json=body, headers=self.staff[staff])
        assert resp.status_code == 201, resp.text
        return dict(resp.json())


@pytest.fixture
def membership_settings(db_url: Callable[[str], str], common_env: dict[str, Any]) -> MembershipSettings:
    return MembershipSettings(database_url=db_url("membership"), **common_env)


@pytest.fixture
def benefits_settings(db_url: Callable[[str], str], common_env: dict[str, Any]) -> BenefitsSettings:
    return BenefitsSettings(database_url=db_url("benefits"), **common_env)


@pytest.fixture
async def apps(membership_settings: MembershipSettings, benefits_settings: BenefitsSettings,
               tokens: TokenFactory) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient, Any]]:
    verifier = tokens.verifier()
    membership_app = create_membership_app(membership_settings, verifier=verifier)
    async with running(membership_app) as membership:
        benefits_app = create_app(benefits_settings, verifier=verifier,
                                  transports={"membership": transport(membership_app)})
        async with running(benefits_app) as benefits:
            yield benefits, membership, benefits_app


@pytest.fixture
async def world(apps: tuple[httpx.AsyncClient, httpx.AsyncClient, Any], tokens: TokenFactory) -> World:
    benefits, membership, app = apps
    w = World(benefits=benefits, membership=membership, tokens=tokens, app=app)
    w.admin = tokens.headers(roles=["admin"], phone_masked=None)
    await w.org("national", "中华全国总工会", None)
    await w.org("guangdong", "广东省总工会", "national")
    await w.org("guangzhou", "广州市总工会", "guangdong")
    await w.org("shenzhen", "深圳市总工会", "guangdong")
    await w.org("gz_metro", "广州地铁集团工会", "guangzhou")
    await w.org("sz_port", "深圳港集团工会", "shenzhen")
    for city in ("guangzhou", "shenzhen", "gz_metro"):
        w.staff[city] = tokens.headers(roles=["staff"], org_id=w.orgs[city], phone_masked=None)
    return w
