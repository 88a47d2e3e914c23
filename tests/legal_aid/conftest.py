"""Legal aid against the real identity and membership apps, in-process.

The org tree and the members are made through membership's public API; lawyers are real
identity accounts made through identity's admin API (assignment asks identity about them).
Access tokens for legal_aid and membership come from the test TokenFactory; the clock of the
legal_aid app can be set to a real date (`world.at(...)`) to exercise the working-day calendar.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI

from services.common.auth import AUDIENCE, ISSUER
from services.common.ids import new_id
from services.common.internal_auth import ServiceSigner
from services.identity.config import IdentitySettings
from services.identity.main import create_app as create_identity
from services.legal_aid.config import LegalAidSettings
from services.legal_aid.main import create_app as create_legal_aid
from services.membership.applications.idcard import check_character
from services.membership.config import MembershipSettings
from services.membership.main import create_app as create_membership
from tests.apps import TEST_INTERNAL_SECRET, running, transport
from tests.tokens import TokenFactory

LAWYER_PASSWORD = "lawyer-password-123"


def id_number(seq: int) -> str:
    first17 = f"440106199003{seq % 28 + 1:02d}{seq % 1000:03d}"
    return first17 + check_character(first17)


def ticket_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"category": "wage_arrears", "title": "工地拖欠三个月工资",
                            "description": "我在某建筑工地做钢筋工，2026年7月至9月的工资共计两万四千元一直未发。",
                            "employer_name": "某某建设工程有限公司", "amount_involved_fen": 2_400_000}
    body.update(overrides)
    return body


@dataclass
class World:
    legal: httpx.AsyncClient
    legal_app: FastAPI
    membership: httpx.AsyncClient
    identity: httpx.AsyncClient
    tokens: TokenFactory
    orgs: dict[str, str] = field(default_factory=dict)
    admin: dict[str, str] = field(default_factory=dict)
    staff: dict[str, dict[str, str]] = field(default_factory=dict)
    lawyers: dict[str, str] = field(default_factory=dict)  # key → account id
    identity_app: FastAPI | None = None
    seq: int = 0

    # -- people --------------------------------------------------------------------------------
    def user(self, account_id: str | None = None, **kwargs: Any) -> dict[str, str]:
        return self.tokens.headers(account_id, **kwargs)

    def staff_of(self, org: str) -> dict[str, str]:
        return self.tokens.headers(roles=["staff"], org_id=self.orgs[org], phone_masked=None)

    async def member(self, org: str = "gz_metro") -> dict[str, str]:
        """A user who applied to `org` and was approved by its city's staff."""
        self.seq += 1
        headers = self.user()
        resp = await self.membership.post("/api/v1/membership/applications", headers=headers, json={
            "real_name": "李四", "id_number": id_number(self.seq), "org_id": self.orgs[org],
            "employer_name": "某某建设工程有限公司"})
        assert resp.status_code == 201, resp.text
        resp = await self.membership.post(f"/api/v1/membership/applications/{resp.json()['id']}/approve",
                                          headers=self.admin)
        assert resp.status_code == 200, resp.text
        return headers

    async def lawyer(self, key: str, org: str | None, roles: tuple[str, ...] = ("lawyer",)) -> dict[str, str]:
        """A real identity account (assignment checks it there) and a token for it."""
        resp = await self.identity.post("/api/v1/admin/accounts", headers=self.identity_admin(), json={
            "username": f"lawyer-{key}", "password": LAWYER_PASSWORD, "display_name": f"律师{key}",
            "roles": list(roles), "org_id": self.orgs[org] if org else None})
        assert resp.status_code == 201, resp.text
        self.lawyers[key] = resp.json()["id"]
        return self.lawyer_headers(key, org, roles)

    def identity_admin(self) -> dict[str, str]:
        """An admin token signed with identity's own key (what a bootstrap-admin login would give,
        without paying for an argon2 hash in every test)."""
        assert self.identity_app is not None
        kid, key = self.identity_app.state.keys.current
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": new_id(), "iat": now, "exp": now + 600, "typ": "access",
                  "sid": new_id(), "roles": ["admin"], "org": None, "phm": None}
        return {"authorization": f"Bearer {jwt.encode(claims, key, algorithm='EdDSA', headers={'kid': kid})}"}

    def lawyer_headers(self, key: str, org: str | None, roles: tuple[str, ...] = ("lawyer",)) -> dict[str, str]:
        return self.tokens.headers(self.lawyers[key], roles=list(roles),
                                   org_id=self.orgs[org] if org else None, phone_masked=None)

    # -- time ------------------------------------------------------------------------------------
    def at(self, when: datetime | None) -> None:
        """Freeze the legal_aid clock (None: real time again)."""
        self.legal_app.state.clock = (lambda: when) if when is not None else None

    # -- tickets ----------------------------------------------------------------------------------
    async def ticket(self, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
        resp = await self.legal.post("/api/v1/legal/tickets", json=ticket_body(**overrides), headers=headers)
        assert resp.status_code == 201, resp.text
        return dict(resp.json())

    async def act(self, ticket_id: str, action: str, headers: dict[str, str], note: str | None = None
                  ) -> httpx.Response:
        return await self.legal.post(f"/api/v1/legal/tickets/{ticket_id}/actions",
                                     json={"action": action, "note": note}, headers=headers)

    async def assign(self, ticket_id: str, lawyer: str, headers: dict[str, str] | None = None) -> httpx.Response:
        return await self.legal.post(f"/api/v1/legal/tickets/{ticket_id}/assign",
                                     json={"lawyer_id": self.lawyers.get(lawyer, lawyer)},
                                     headers=headers or self.staff["guangzhou"])

    async def say(self, ticket_id: str, headers: dict[str, str], body: str = "您好，请补充劳动合同。",
                  internal: bool = False) -> httpx.Response:
        return await self.legal.post(f"/api/v1/legal/tickets/{ticket_id}/messages",
                                     json={"body": body, "internal": internal}, headers=headers)

    async def get(self, ticket_id: str, headers: dict[str, str]) -> httpx.Response:
        return await self.legal.get(f"/api/v1/legal/tickets/{ticket_id}", headers=headers)

    async def event(self, topic: str, payload: dict[str, Any], event_id: str = "evt-1",
                    caller: str = "identity") -> httpx.Response:
        token = ServiceSigner(TEST_INTERNAL_SECRET, caller).token_for("legal_aid")
        return await self.legal.post("/internal/events", json={"id": event_id, "topic": topic, "payload": payload},
                                     headers={"x-service-token": token})


async def _org(world: World, key: str, name: str, parent: str | None) -> None:
    resp = await world.membership.post("/api/v1/orgs", headers=world.admin,
                                       json={"name": name, "parent_id": world.orgs.get(parent or "")})
    assert resp.status_code == 201, resp.text
    world.orgs[key] = resp.json()["id"]


@pytest.fixture
def database_urls(db_url: Callable[[str], str]) -> dict[str, str]:
    # Migrating needs its own event loop: done here, in a synchronous fixture.
    return {name: db_url(name) for name in ("membership", "identity", "legal_aid")}


@pytest.fixture
def legal_settings(database_urls: dict[str, str], common_env: dict[str, Any]) -> LegalAidSettings:
    return LegalAidSettings(database_url=database_urls["legal_aid"], **common_env)


@pytest.fixture
async def world(database_urls: dict[str, str], legal_settings: LegalAidSettings, common_env: dict[str, Any],
                tokens: TokenFactory) -> AsyncIterator[World]:
    membership_app = create_membership(MembershipSettings(database_url=database_urls["membership"], **common_env),
                                       verifier=tokens.verifier())
    identity_app = create_identity(IdentitySettings(database_url=database_urls["identity"], outbox_interval=0,
                                                    **common_env),
        transports={"membership": transport(membership_app)})
    legal_app = create_legal_aid(legal_settings, verifier=tokens.verifier(),
                                 transports={"membership": transport(membership_app),
                                             "identity": transport(identity_app)})
    async with AsyncExitStack() as stack:
        membership = await stack.enter_async_context(running(membership_app))
        identity = await stack.enter_async_context(running(identity_app))
        legal = await stack.enter_async_context(running(legal_app))
        w = World(legal=legal, legal_app=legal_app, membership=membership, identity=identity, tokens=tokens,
                  identity_app=identity_app)
        w.admin = tokens.headers(roles=["admin"], phone_masked=None)
        await _org(w, "national", "中华全国总工会", None)
        await _org(w, "guangdong", "广东省总工会", "national")
        await _org(w, "guangzhou", "广州市总工会", "guangdong")
        await _org(w, "shenzhen", "深圳市总工会", "guangdong")
        await _org(w, "gz_metro", "广州地铁集团工会", "guangzhou")
        await _org(w, "sz_port", "深圳港集团工会", "shenzhen")
        for org in ("guangdong", "guangzhou", "shenzhen", "gz_metro"):
            w.staff[org] = w.staff_of(org)
        yield w
