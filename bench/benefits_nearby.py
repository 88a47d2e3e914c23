"""Nearby offers with 100,000 merchants: p95 ÷ p95 of an offer fetch by id (target ≤ 10).

    python -m bench.benefits_nearby [--merchants 100000] [--requests 400] [--radius 5000]
                                    [--where centre|sparse] [--category] [--page 1]

Starts identity, benefits and the gateway as real uvicorn processes (tests/stack.py, SQLite),
bulk-inserts the merchants (one live offer each) straight into the benefits database: 70% spread
around twelve Chinese city centres (normal, σ ≈ 8 km), 30% uniform over eastern China. Then,
alternating one request of each kind on one keep-alive connection, measures
GET /api/v1/benefits/offers?lat=&lng=&radius_m= at random points near the city centres (20
nearest offers) against GET /api/v1/benefits/offers/{random id}, straight to the benefits server.
Variants of the nearby request (the default is the one the target is about): `--where sparse`
queries at uniform points over the same area (few merchants within reach, so the search runs to
the full radius), `--category` adds a category filter (one in eight merchants matches), `--page N`
times the N-th page (following next_cursor; the earlier pages are not timed).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import create_engine

from services.benefits.merchants.models import Merchant
from services.benefits.offers.models import Offer
from services.common.ids import new_id
from tests.stack import SERVICE_PORT_OFFSETS, running_stack

PHONE, CODE = "13500135001", "135791"
CITIES = [(23.129, 113.264), (22.543, 114.058), (31.230, 121.474), (39.904, 116.407), (30.572, 104.066),
          (30.593, 114.305), (32.060, 118.797), (30.274, 120.155), (34.341, 108.940), (29.563, 106.551),
          (36.067, 120.383), (28.228, 112.939)]
CATEGORIES = ["food", "clothing", "lodging", "transport", "medical", "shopping", "travel", "entertainment"]


def seed(db_file: Path, n: int, rng: random.Random) -> None:
    engine = create_engine(f"sqlite:///{db_file}")
    now = datetime.now(UTC)
    merchants, offers = [], []
    for i in range(n):
        if rng.random() < 0.7:
            clat, clng = rng.choice(CITIES)
            lat, lng = rng.gauss(clat, 0.072), rng.gauss(clng, 0.08)
        else:
            lat, lng = rng.uniform(20, 42), rng.uniform(100, 123)
        mid = new_id()
        merchants.append({"id": mid, "org_id": None, "org_path": None, "name": f"商户{i}",
                          "category": rng.choice(CATEGORIES), "address": "地址", "lat": lat, "lng": lng,
                          "phone": None, "created_by": "bench", "created_at": now})
        offers.append({"id": new_id(), "merchant_id": mid, "org_path": None, "title": f"会员优惠{i}",
                       "description": "", "discount_type": "percent_off", "value": 10, "min_spend_fen": 0,
                       "max_discount_fen": None, "per_member_limit": 1, "limit_period": "day", "total_quota": None,
                       "used_count": 0, "eligible_org_id": None, "eligible_org_path": None,
                       "starts_at": now - timedelta(days=1), "ends_at": now + timedelta(days=30),
                       "created_by": "bench", "created_at": now})
    with engine.begin() as conn:
        conn.execute(Merchant.__table__.insert(), merchants)
        conn.execute(Offer.__table__.insert(), offers)
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()


def p95(values: list[float]) -> float:
    values = sorted(values)
    return values[int(len(values) * 0.95)] * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--merchants", type=int, default=100_000)
    ap.add_argument("--requests", type=int, default=400)
    ap.add_argument("--radius", type=int, default=5000)
    ap.add_argument("--where", choices=("centre", "sparse"), default="centre")
    ap.add_argument("--category", action="store_true")
    ap.add_argument("--page", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(7)
    env = {"SMS_TEST_CODES": f"{PHONE}:{CODE}", "LOG_LEVEL": "WARNING"}
    with tempfile.TemporaryDirectory() as tmpdir, \
            running_stack(Path(tmpdir), env, services=("identity", "benefits")) as stack:
        t0 = time.perf_counter()
        seed(Path(tmpdir) / "benefits.db", args.merchants, rng)
        print(f"seeded {args.merchants:,} merchants + offers in {time.perf_counter() - t0:.1f} s", flush=True)
        pair = httpx.post(stack.gateway + "/api/v1/auth/sms/login", json={"phone": PHONE, "code": CODE}).json()
        headers = {"authorization": f"Bearer {pair['access_token']}"}
        base = f"http://127.0.0.1:{stack.services_base + SERVICE_PORT_OFFSETS['benefits']}"
        with httpx.Client(base_url=base, headers=headers, timeout=30) as c:
            ids = [o["id"] for o in c.get("/api/v1/benefits/offers", params={"limit": 100}).json()["items"]]
            by_id: list[float] = []
            nearby: list[float] = []
            found: list[int] = []
            for i in range(args.requests + 20):
                if args.where == "centre":
                    clat, clng = rng.choice(CITIES)
                    lat, lng = rng.gauss(clat, 0.03), rng.gauss(clng, 0.03)
                else:
                    lat, lng = rng.uniform(20, 42), rng.uniform(100, 123)
                params: dict[str, object] = {"lat": lat, "lng": lng, "radius_m": args.radius}
                if args.category:
                    params["category"] = rng.choice(CATEGORIES)
                for _ in range(args.page - 1):
                    cursor = c.get("/api/v1/benefits/offers", params=params).json()["next_cursor"]
                    if cursor is None:
                        break
                    params["cursor"] = cursor
                t = time.perf_counter()
                r = c.get("/api/v1/benefits/offers", params=params)
                elapsed = time.perf_counter() - t
                assert r.status_code == 200, r.text
                if i >= 20:
                    nearby.append(elapsed)
                    found.append(len(r.json()["items"]))
                t = time.perf_counter()
                r = c.get(f"/api/v1/benefits/offers/{rng.choice(ids)}")
                elapsed = time.perf_counter() - t
                assert r.status_code == 200
                if i >= 20:
                    by_id.append(elapsed)
        result = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": platform.machine(),
                  "cpus": os.cpu_count(), "merchants": args.merchants, "radius_m": args.radius,
                  "where": args.where, "category": args.category, "page": args.page,
                  "nearby_p95_ms": round(p95(nearby), 2), "by_id_p95_ms": round(p95(by_id), 2),
                  "nearby_avg_items": round(sum(found) / len(found), 1),
                  "ratio": round(p95(nearby) / p95(by_id), 2), "target": 10}
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
