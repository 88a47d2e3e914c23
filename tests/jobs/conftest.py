"""The jobs service with the real membership service in-process (for the org tree), both on the
current backend, sharing one test token verifier."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from services.jobs.config import JobsSettings
from services.jobs.main import create_app as create_jobs
from services.membership.config import MembershipSettings
from services.membership.main import create_app as create_membership
from tests.apps import running, transport
from tests.tokens import TokenFactory

VALID_CREDIT_CODE = "91350100M000100Y43"


def future(days: float = 30) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def job_body(**overrides: Any) -> dict[str, Any]:
    body = {"title": "高级电工", "employer_name": "广州地铁集团有限公司", "city": "广州", "category": "技工",
            "salary_min": 6000, "salary_max": 9000, "description": "负责车站供电设备的日常维护，需持电工证。",
            "contact_phone": "13912345678", "expires_at": future()}
    body.update(overrides)
    return body


@dataclass
class World:
    """national → province → 广州 (city) → workplace_a; province → 深圳 → workplace_b; the staff of
    each city, an employer in each workplace, an admin, members with and without a phone."""

    client: httpx.AsyncClient
    membership: httpx.AsyncClient
    tokens: TokenFactory
    db_url: str
    orgs: dict[str, str] = field(default_factory=dict)
    admin: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)

    def user(self, account_id: str | None = None, **kwargs: Any) -> dict[str, str]:
        return self.tokens.headers(account_id, **kwargs)

    def account(self, key: str, roles: tuple[str, ...] = (), org: str | None = None, **kwargs: Any) -> dict[str, str]:
        account_id = self.ids.setdefault(key, f"acct{key}")
        h = self.tokens.headers(account_id, roles=roles, org_id=self.orgs[org] if org else None, **kwargs)
        self.headers[key] = h
        return h

    async def org(self, key: str, name: str, parent: str | None) -> None:
        resp = await self.membership.post("/api/v1/orgs", json={"name": name, "parent_id": self.orgs.get(parent or "")},
                                          headers=self.admin)
        assert resp.status_code == 201, resp.text
        self.orgs[key] = resp.json()["id"]

    async def post(self, who: str = "employer", **overrides: Any) -> dict[str, Any]:
        resp = await self.client.post("/api/v1/jobs", json=job_body(**overrides), headers=self.headers[who])
        assert resp.status_code == 201, resp.text
        return dict(resp.json())

    async def review(self, job_id: str, who: str = "staff_gz", decision: str = "approve",
                     reason: str | None = None) -> httpx.Response:
        return await self.client.post(f"/api/v1/jobs/{job_id}/review", json={"decision": decision, "reason": reason},
                                      headers=self.headers[who])

    async def published(self, who: str = "employer", reviewer: str | None = None, **overrides: Any) -> dict[str, Any]:
        job = await self.post(who, **overrides)
        reviewer = reviewer or ("staff_sz" if who == "employer_b" else "staff_gz")
        resp = await self.review(job["id"], reviewer)
        assert resp.status_code == 200, resp.text
        return dict(resp.json())

    async def search(self, who: str = "member", **params: Any) -> httpx.Response:
        return await self.client.get("/api/v1/jobs", params=params, headers=self.headers[who])

    async def found(self, who: str = "member", **params: Any) -> list[str]:
        resp = await self.search(who, **params)
        assert resp.status_code == 200, resp.text
        return [j["id"] for j in resp.json()["items"]]

    async def sql(self, statement: str, **params: Any) -> None:
        engine = create_async_engine(self.db_url, poolclass=NullPool)
        async with engine.begin() as conn:
            await conn.execute(text(statement), params)
        await engine.dispose()

    async def expire(self, job_id: str) -> None:
        """Move a job's expiry into the past, as time passing would."""
        past = datetime.now(UTC) - timedelta(minutes=1)
        await self.sql("UPDATE jobs SET expires_at = :t WHERE id = :id",
                       t=past.replace(tzinfo=None) if self.db_url.startswith("sqlite") else past, id=job_id)


@pytest.fixture
def jobs_settings_overrides() -> dict[str, Any]:
    return {}


@pytest.fixture
def database_urls(db_url: Callable[[str], str]) -> dict[str, str]:
    # Synchronous on purpose: building the databases runs its own event loop.
    return {"membership": db_url("membership"), "jobs": db_url("jobs")}


@pytest.fixture
async def world(database_urls: dict[str, str], common_env: dict[str, object], tokens: TokenFactory,
                jobs_settings_overrides: dict[str, Any]) -> AsyncIterator[World]:
    membership_app = create_membership(MembershipSettings(database_url=database_urls["membership"], **common_env),  # type: ignore[arg-type]
                                       verifier=tokens.verifier())
    jobs_url = database_urls["jobs"]
    settings = JobsSettings(database_url=jobs_url, **common_env, **jobs_settings_overrides)  # type: ignore[arg-type]
    async with running(membership_app) as membership:
        jobs_app = create_jobs(settings, verifier=tokens.verifier(),
                               transports={"membership": transport(membership_app)})
        async with running(jobs_app) as client:
            w = World(client=client, membership=membership, tokens=tokens, db_url=jobs_url)
            w.admin = w.account("admin", roles=("admin",))
            await w.org("national", "中华全国总工会", None)
            await w.org("province", "广东省总工会", "national")
            await w.org("gz", "广州市总工会", "province")
            await w.org("workplace_a", "广州地铁工会", "gz")
            await w.org("sz", "深圳市总工会", "province")
            await w.org("workplace_b", "深圳港工会", "sz")
            w.account("staff_gz", roles=("staff",), org="gz")
            w.account("staff_gz2", roles=("staff",), org="gz")
            w.account("staff_sz", roles=("staff",), org="sz")
            w.account("staff_province", roles=("staff",), org="province")
            w.account("employer", roles=("employer",), org="workplace_a")
            w.account("employer_b", roles=("employer",), org="workplace_b")
            w.account("member", phone_masked="138****0001")
            w.account("member2", phone_masked="138****0002")
            w.account("no_phone", phone_masked=None)
            yield w
