"""The staff queue (tickets of a city union's subtree, `status=submitted&sort=due`) and a
member's own list vs a ticket fetch by id, through the whole legal_aid app in-process (token
check, org path from an in-process membership stand-in, query, decryption, JSON), on N tickets
spread over a realistic union tree. Also times the working-day due-time computation itself.

    python -m bench.legal_aid_queue [--tickets 100000] [--postgres URL] [--requests 400]

Requests alternate, so machine noise hits all sides alike. Prints p50 / p95 of each and the
ratios to the fetch by id.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import create_async_engine

from services.common.config import database_url_for_service
from services.common.crypto import PiiCipher, generate_key_spec
from services.common.ids import new_id
from services.common.migrations import upgrade
from services.legal_aid.config import LegalAidSettings
from services.legal_aid.main import create_app
from services.legal_aid.models import Ticket
from services.legal_aid.workdays.clock import WorkCalendar, due_after
from tests.tokens import TokenFactory

CATEGORIES = ("wage_arrears", "labor_contract", "work_injury", "social_insurance", "dismissal", "other")
STATUSES = ("submitted",) * 2 + ("accepted",) * 3 + ("waiting_member", "resolved") + ("closed",) * 3


def pct(values: list[float], p: float) -> float:
    return sorted(values)[min(len(values) - 1, int(len(values) * p))]


def org_tree() -> dict[str, str]:
    """national → 31 provinces → 10 cities each → 20 workplaces each (6,541 orgs)."""
    paths: dict[str, str] = {}
    national = new_id()
    paths[national] = f"/{national}/"
    for _ in range(31):
        p = new_id()
        paths[p] = f"{paths[national]}{p}/"
        for _ in range(10):
            c = new_id()
            paths[c] = f"{paths[p]}{c}/"
            for _ in range(20):
                w = new_id()
                paths[w] = f"{paths[c]}{w}/"
    return paths


def membership_stand_in(paths: dict[str, str]) -> FastAPI:
    """Answers /internal/orgs/{id} like membership does (the real one would need 6,541 orgs
    created through its API first; only the path lookup matters here, and it is cached)."""
    app = FastAPI()

    @app.get("/internal/orgs/{org_id}")
    async def org(org_id: str) -> dict[str, Any]:
        path = paths[org_id]
        return {"id": org_id, "name": "工会", "parent_id": None, "path": path, "depth": path.count("/") - 2}

    return app


async def seed(url: str, n: int, paths: dict[str, str], pii: PiiCipher) -> tuple[list[str], list[str], str]:
    rng = random.Random(7)
    workplaces = [o for o, p in paths.items() if p.count("/") == 5]
    owners = [new_id() for _ in range(n // 5)]
    lawyers = [new_id() for _ in range(max(1, n // 50))]
    now = datetime.now(UTC)
    engine = create_async_engine(url)
    ids: list[str] = []
    started = time.perf_counter()
    async with engine.begin() as conn:
        batch: list[dict[str, Any]] = []
        for i in range(n):
            tid = new_id()
            org = rng.choice(workplaces)
            status = rng.choice(STATUSES)
            created = now - timedelta(minutes=rng.randint(0, 60 * 24 * 365))
            batch.append({
                "id": tid, "owner_id": rng.choice(owners), "org_id": org, "org_path": paths[org],
                "category": rng.choice(CATEGORIES), "status": status,
                "title_enc": pii.encrypt(f"咨询 {i}", context=f"legal:{tid}:title"),
                "description_enc": pii.encrypt("工资拖欠情况说明" * 5, context=f"legal:{tid}:description"),
                "employer_name_enc": None, "amount_involved_fen": rng.randint(0, 10**7),
                "assignee_id": None if status == "submitted" else rng.choice(lawyers),
                "first_response_due_at": created + timedelta(days=2),
                "first_response_at": None, "paused_at": None, "calendar_fallback": False,
                "public_message_count": 0, "internal_message_count": 0, "anonymised_at": None,
                "created_at": created, "updated_at": created,
            })
            ids.append(tid)
            if len(batch) == 5000:
                await conn.execute(insert(Ticket), batch)
                batch = []
        if batch:
            await conn.execute(insert(Ticket), batch)
    async with engine.connect() as conn:  # fresh statistics, as autovacuum / a nightly job would give
        await conn.execute(text("ANALYZE"))
        await conn.commit()
    await engine.dispose()
    print(f"seeded {n} tickets in {time.perf_counter() - started:.1f} s", flush=True)
    cities = [o for o, p in paths.items() if p.count("/") == 4]
    return ids, owners, rng.choice(cities)


async def run(url: str, n: int, requests: int) -> None:
    paths = org_tree()
    tokens = TokenFactory()
    with tempfile.TemporaryDirectory() as data_dir:
        spec = generate_key_spec()
        pii = PiiCipher.from_spec(spec)
        await asyncio.to_thread(upgrade, "legal_aid", url)
        ids, owners, city = await seed(url, n, paths, pii)
        settings = LegalAidSettings(database_url=url, SMARTUNION_DATA_DIR=data_dir, LOG_LEVEL="WARNING",
                                    SMARTUNION_PII_KEYS=spec,
                                    SMARTUNION_INTERNAL_SECRET="bench-internal-secret-0123456789abcdef")
        app = create_app(settings, verifier=tokens.verifier(),
                         transports={"membership": httpx.ASGITransport(app=membership_stand_in(paths))})
        staff = tokens.headers(roles=["staff"], org_id=city, phone_masked=None)
        admin = tokens.headers(roles=["admin"], phone_masked=None)
        rng = random.Random(3)
        timings: dict[str, list[float]] = {"queue": [], "own": [], "fetch": []}
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as c:
                async def timed(name: str, path: str, headers: dict[str, str]) -> int:
                    t = time.perf_counter()
                    resp = await c.get(path, headers=headers)
                    timings[name].append((time.perf_counter() - t) * 1000)
                    assert resp.status_code == 200, resp.text
                    return len(resp.json().get("items", [1]))

                sizes = []
                for i in range(requests + 50):
                    sizes.append(await timed("queue", "/api/v1/legal/tickets?status=submitted&sort=due", staff))
                    await timed("own", "/api/v1/legal/tickets", tokens.headers(rng.choice(owners)))
                    await timed("fetch", f"/api/v1/legal/tickets/{rng.choice(ids)}", admin)
                    if i == 49:
                        for v in timings.values():
                            v.clear()
        fetch95 = pct(timings["fetch"], 0.95)
        for name, values in timings.items():
            print(f"{name:6s} p50 {pct(values, 0.5):7.2f} ms  p95 {pct(values, 0.95):7.2f} ms  "
                  f"p95 ratio to fetch {pct(values, 0.95) / fetch95:5.2f}")
        print(f"queue page size {sum(sizes) / len(sizes):.1f}")

    cal = WorkCalendar()
    start = datetime(2026, 9, 28, 10, 0, tzinfo=UTC)
    t = time.perf_counter()
    for i in range(10_000):
        due_after(cal, start + timedelta(hours=i % 500), 2)
    print(f"due-time computation: {(time.perf_counter() - t) / 10_000 * 1e6:.1f} µs each")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--postgres", help="server URL; default: a fresh SQLite file")
    args = parser.parse_args()
    if args.postgres:
        url = database_url_for_service(args.postgres.rstrip("/") + "/su_bench_legal", "legal_aid")
        from tests.databases import _drop_database

        asyncio.run(_drop_database(url))
    else:
        path = Path(tempfile.mkdtemp()) / "legal_aid.db"
        url = f"sqlite+aiosqlite:///{path}"
    asyncio.run(run(url, args.tickets, args.requests))


if __name__ == "__main__":
    main()
