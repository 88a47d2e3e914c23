"""Job search with one two-character word + a city vs a job fetch by id, through the whole jobs
app (token check, routing, query, serialisation) in-process over ASGI, on a database filled by
bench/jobs_seed.py. Requests alternate, so machine noise hits both sides alike.

    python -m bench.jobs_search [--sqlite PATH | --postgres URL] [--requests 500]

Prints p50 / p95 of each and the ratio p95(search) / p95(fetch) (target ≤ 10).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bench.jobs_seed import CITIES
from services.common.config import database_url_for_service
from services.jobs.config import JobsSettings
from services.jobs.main import create_app
from tests.tokens import TokenFactory

WORDS = ("电工", "司机", "保安", "月嫂", "保洁", "厨师", "焊工", "护工", "导购", "门卫", "快递", "叉车")


def pct(values: list[float], p: float) -> float:
    return sorted(values)[min(len(values) - 1, int(len(values) * p))]


async def run(url: str, n: int) -> None:
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        ids = [r[0] for r in await conn.execute(text(
            "SELECT id FROM jobs WHERE status = 'published' AND expires_at > :now ORDER BY random() LIMIT 2000"),
            {"now": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()) if url.startswith("sqlite")
             else __import__("datetime").datetime.now(__import__("datetime").UTC)})]
        total = await conn.scalar(text("SELECT count(*) FROM jobs"))
    await engine.dispose()
    tokens = TokenFactory()
    with tempfile.TemporaryDirectory() as data_dir:
        settings = JobsSettings(database_url=url, SMARTUNION_DATA_DIR=data_dir, LOG_LEVEL="WARNING",
                                SMARTUNION_INTERNAL_SECRET="bench-internal-secret-0123456789abcdef")
        app = create_app(settings, verifier=tokens.verifier())
        headers = tokens.headers(phone_masked="138****0000")
        rng = random.Random(1)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                search_ms: list[float] = []
                fetch_ms: list[float] = []
                hits: list[int] = []

                async def search() -> None:
                    params = {"q": rng.choice(WORDS), "city": rng.choice(CITIES)}
                    t = time.perf_counter()
                    resp = await client.get("/api/v1/jobs", params=params, headers=headers)
                    search_ms.append((time.perf_counter() - t) * 1000)
                    assert resp.status_code == 200, resp.text
                    hits.append(len(resp.json()["items"]))

                async def fetch() -> None:
                    t = time.perf_counter()
                    resp = await client.get(f"/api/v1/jobs/{rng.choice(ids)}", headers=headers)
                    fetch_ms.append((time.perf_counter() - t) * 1000)
                    assert resp.status_code == 200, resp.text

                for _ in range(50):  # warm-up: caches, pools, jieba
                    await search()
                    await fetch()
                search_ms.clear()
                fetch_ms.clear()
                hits.clear()
                for _ in range(n):
                    await search()
                    await fetch()
    s95, f95 = pct(search_ms, 0.95), pct(fetch_ms, 0.95)
    backend = "sqlite" if url.startswith("sqlite") else "postgresql"
    print(f"{backend}: {total} jobs, {n} requests each; search (1 two-character word + city, 20 per page, "
          f"mean {statistics.mean(hits):.1f} hits/page): p50 {pct(search_ms, 0.5):.2f} ms p95 {s95:.2f} ms; "
          f"fetch by id: p50 {pct(fetch_ms, 0.5):.2f} ms p95 {f95:.2f} ms; ratio p95 {s95 / f95:.2f} "
          f"(target ≤ 10)", flush=True)


async def run_sql(url: str, n: int) -> None:
    """The same comparison without the HTTP layer: repository calls on one session."""
    from services.common.db import Database, utcnow
    from services.jobs.postings import repository
    from services.jobs.search import segmenter

    db = Database(url)
    rng = random.Random(2)
    async with db.sessionmaker() as session:
        ids = list(await session.scalars(text("SELECT id FROM jobs WHERE status = 'published' LIMIT 2000")))
        search_ms: list[float] = []
        fetch_ms: list[float] = []
        for i in range(n + 50):
            t = time.perf_counter()
            await repository.search(session, now=utcnow(), tokens=segmenter.query_tokens(rng.choice(WORDS)),
                                    city=rng.choice(CITIES), category=None, salary_min=None, after=None, limit=21)
            t1 = time.perf_counter()
            await repository.get(session, rng.choice(ids))
            t2 = time.perf_counter()
            session.expunge_all()
            if i >= 50:
                search_ms.append((t1 - t) * 1000)
                fetch_ms.append((t2 - t1) * 1000)
    await db.dispose()
    s95, f95 = pct(search_ms, 0.95), pct(fetch_ms, 0.95)
    print(f"  SQL only (repository calls, no HTTP): search p50 {pct(search_ms, 0.5):.2f} ms p95 {s95:.2f} ms; "
          f"fetch p50 {pct(fetch_ms, 0.5):.2f} ms p95 {f95:.2f} ms; ratio p95 {s95 / f95:.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sqlite", type=Path, default=Path("bench/results/data/jobs-200000.db"))
    parser.add_argument("--postgres", help="server URL as given to jobs_seed --postgres")
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    if args.postgres:
        url = database_url_for_service(args.postgres.rstrip("/") + "/su_bench", "jobs")
    else:
        if not args.sqlite.exists():
            sys.exit(f"{args.sqlite} missing: run python -m bench.jobs_seed first")
        url = f"sqlite+aiosqlite:///{args.sqlite.resolve()}"
    asyncio.run(run(url, args.requests))
    asyncio.run(run_sql(url, args.requests))


if __name__ == "__main__":
    main()
