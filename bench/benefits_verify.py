"""Merchant card verify ÷ hello-world on the same server (target ≥ 0.50).

    python -m bench.benefits_verify [--duration 5] [--runs 3] [--connections 32] [--redis URL]

Starts identity, membership, benefits and the gateway as real uvicorn processes (tests/stack.py,
as `make run` does, SQLite), creates through the API an org, a merchant with an API key and an
approved member, then alternates two closed-loop loads on the benefits server with bench/_load.py
(its own process): GET /healthz (hello-world) and POST /api/v1/merchant/verify with a live QR
code, every request signed with its own nonce (pre-built, so the generator does no HMAC work
while measuring). Verify = key read + signature + nonce claim (DB insert, or Redis with --redis)
+ membership's QR check over HTTP (its own DB read). Reports the median ratio of throughputs.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from services.benefits.merchant_api.signing import signed_headers
from tests.stack import SERVICE_PORT_OFFSETS, running_stack

PHONE, CODE = "13500135000", "135790"
ADMIN = ("bench-admin", "bench-admin-password")


def id_number(seq: int) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    first17 = f"44010619900307{seq % 1000:03d}"
    return first17 + "10X98765432"[sum(int(c) * w for c, w in zip(first17, weights, strict=True)) % 11]


def setup(gateway: str) -> dict[str, Any]:
    with httpx.Client(base_url=gateway, timeout=15) as c:
        tok = c.post("/api/v1/auth/password/login", json={"username": ADMIN[0], "password": ADMIN[1]}).json()
        admin = {"authorization": f"Bearer {tok['access_token']}"}
        org = c.post("/api/v1/orgs", json={"name": "广州市总工会", "parent_id": None}, headers=admin).json()["id"]
        merchant = c.post("/api/v1/benefits/merchants", headers=admin, json={
            "name": "陶陶居酒家", "category": "food", "address": "广州市荔湾区", "lat": 23.118, "lng": 113.246,
            "org_id": org}).json()
        key = c.post(f"/api/v1/benefits/merchants/{merchant['id']}/credentials", headers=admin).json()
        pair = c.post("/api/v1/auth/sms/login", json={"phone": PHONE, "code": CODE}).json()
        member = {"authorization": f"Bearer {pair['access_token']}"}
        app = c.post("/api/v1/membership/applications", headers=member, json={
            "real_name": "王五", "id_number": id_number(3), "org_id": org, "employer_name": "广州地铁"}).json()
        c.post(f"/api/v1/membership/applications/{app['id']}/approve", headers=admin).raise_for_status()
    return {"key": key, "member": member}


def raw_request(method: str, path: str, port: int, headers: dict[str, str], body: bytes = b"") -> str:
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return base64.b64encode(("\r\n".join(lines) + "\r\n\r\n").encode() + body).decode()


def load(port: int, requests: list[str], duration: float, connections: int, tmp: Path) -> dict[str, Any]:
    spec = tmp / "spec.json"
    spec.write_text(json.dumps({"host": "127.0.0.1", "port": port, "requests": requests, "duration": duration,
                                "connections": connections, "warmup": 0.5}))
    out = subprocess.run([sys.executable, "-m", "bench._load", str(spec)], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def verify_requests(port: int, key: dict[str, str], token: str, n: int) -> list[str]:
    body = json.dumps({"qr_token": token}).encode()
    path = "/api/v1/merchant/verify"
    return [raw_request("POST", path, port, {**signed_headers(key["key_id"], key["secret"], "POST", path, body),
                                             "Content-Type": "application/json"}, body) for _ in range(n)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, default=5)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--redis", default=None, help="REDIS_URL for the nonce store (default: the database)")
    args = ap.parse_args()
    env = {"SMS_TEST_CODES": f"{PHONE}:{CODE}", "BOOTSTRAP_ADMIN_USERNAME": ADMIN[0],
           "BOOTSTRAP_ADMIN_PASSWORD": ADMIN[1], "LOG_LEVEL": "WARNING"}
    if args.redis:
        env["REDIS_URL"] = args.redis
    with tempfile.TemporaryDirectory() as tmpdir, \
            running_stack(Path(tmpdir), env, services=("identity", "membership", "benefits")) as stack:
        tmp = Path(tmpdir)
        ctx = setup(stack.gateway)
        port = stack.services_base + SERVICE_PORT_OFFSETS["benefits"]
        hello = [raw_request("GET", "/healthz", port, {})]
        ratios = []
        for run in range(args.runs):
            h = load(port, hello, args.duration, args.connections, tmp)
            resp = httpx.post(stack.gateway + "/api/v1/membership/me/qr", headers=ctx["member"], timeout=10)
            resp.raise_for_status()
            count = int(max(h["rps"], 2000) * (args.duration + 2))
            reqs = verify_requests(port, ctx["key"], resp.json()["token"], count)
            check = httpx.post(f"http://127.0.0.1:{port}/api/v1/merchant/verify", timeout=10,
                               content=base64.b64decode(reqs[0]).split(b"\r\n\r\n", 1)[1],
                               headers=dict(line.split(": ", 1) for line in base64.b64decode(reqs.pop(0)).decode()
                                            .split("\r\n\r\n")[0].split("\r\n")[2:]))
            assert check.json()["valid"] is True, check.text
            v = load(port, reqs, args.duration, args.connections, tmp)
            ok = v["statuses"].get("200", 0)
            ratio = v["rps"] / h["rps"]
            ratios.append(ratio)
            print(f"run {run + 1}: hello {h['rps']:.0f} req/s (p99 {h['p99_ms']:.1f} ms), verify {v['rps']:.0f} req/s "
                  f"(p99 {v['p99_ms']:.1f} ms, statuses {v['statuses']}, 200s {ok}), ratio {ratio:.2f}", flush=True)
        print(json.dumps({"date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": platform.machine(),
                          "cpus": os.cpu_count(), "nonce_store": "redis" if args.redis else "database",
                          "median_ratio": round(statistics.median(ratios), 3), "target": 0.5}), flush=True)
        time.sleep(0.1)


if __name__ == "__main__":
    main()
