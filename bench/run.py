"""`make bench`: start the whole stack, seed what the figures need, drive load from separate
processes and print the gateway's ratios (issue 7 / DESIGN.md), each the median of alternating runs.

    python -m bench.run [--postgres] [--runs 3] [--duration 3] [--connections 32]

Load: wrk (Debian's; installed with apt-get when missing and we are root) for closed-loop
throughput, `bench/_load.py` for open-loop latency at a fixed rate and for the overload run (and
for everything when wrk cannot be had). The stack is the one `make run` starts (tests/stack.py:
the same uvicorn command lines), plus a second gateway with GATEWAY_MIDDLEWARE_ENABLED=false.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import platform
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.stack import Stack, free_port, running_stack, uvicorn_cmd

BENCH_DIR = Path(__file__).resolve().parent
PHONE, CODE = "13800000099", "424242"
ADMIN = ("bench-admin", "bench-admin-password-2026")
ID_NUMBER = "11010519491231002X"

WRK_LUA = """
local reqs = {}
local n = 0
init = function(args)
  local f = assert(io.open(args[1], "rb"))
  while true do
    local len = f:read("*l")
    if not len then break end
    n = n + 1
    reqs[n] = f:read(tonumber(len))
  end
  f:close()
end
local i = 0
request = function()
  i = i % n + 1
  return reqs[i]
end
"""


# -- requests ------------------------------------------------------------------------------------
def raw_get(host: str, path: str, headers: dict[str, str] | None = None) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}"] + [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def raw_signed_post(host: str, path: str, body: bytes, key_id: str, secret: str) -> bytes:
    ts, nonce = str(int(time.time())), secrets.token_hex(16)
    digest = hashlib.sha256(body).hexdigest()
    mac = hmac.new(secret.encode(), f"POST\n{path}\n{ts}\n{nonce}\n{digest}\n".encode(), hashlib.sha256)
    headers = {"Host": host, "Content-Type": "application/json", "Content-Length": str(len(body)),
               "X-Merchant-Key": key_id, "X-Timestamp": ts, "X-Nonce": nonce,
               "X-Signature": base64.b64encode(mac.digest()).decode()}
    head = f"POST {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    return head.encode() + body


@dataclass
class Target:
    """One kind of request against one base URL: `make(host)` builds the raw request bytes."""
    name: str
    base: str
    requests: list[bytes]

    @property
    def host(self) -> str:
        return urlsplit(self.base).netloc


# -- load generators -----------------------------------------------------------------------------
class Load:
    def __init__(self, workdir: Path, connections: int, duration: float) -> None:
        self.workdir = workdir
        self.connections = connections
        self.duration = duration
        self.wrk = find_wrk()
        (workdir / "cycle.lua").write_text(WRK_LUA)

    def _cpu_children(self) -> float:
        r = resource.getrusage(resource.RUSAGE_CHILDREN)
        return r.ru_utime + r.ru_stime

    def throughput(self, target: Target) -> dict[str, Any]:
        """Closed loop at saturation: requests per second."""
        if self.wrk is None:
            return self.python(target, rate=0)
        reqfile = self.workdir / f"{target.name}.reqs"
        with reqfile.open("wb") as f:
            for raw in target.requests:
                f.write(f"{len(raw)}\n".encode() + raw)
        cpu0 = self._cpu_children()
        start = time.perf_counter()
        out = subprocess.run([self.wrk, "-t1", f"-c{self.connections}", f"-d{max(1, round(self.duration))}s", "-s",
                              str(self.workdir / "cycle.lua"), target.base, "--", str(reqfile)],
                             capture_output=True, text=True, check=True).stdout
        wall = time.perf_counter() - start
        rps = float(next(line.split()[1] for line in out.splitlines() if line.startswith("Requests/sec")))
        non2xx = next((int(line.split()[-1]) for line in out.splitlines() if "Non-2xx" in line), 0)
        total = next((int(line.split()[0]) for line in out.splitlines() if "requests in" in line), 0)
        return {"rps": rps, "non2xx": non2xx, "requests": total,
                "generator_cpu": (self._cpu_children() - cpu0) / wall, "tool": "wrk"}

    def python(self, target: Target, *, rate: float, duration: float | None = None,
               connections: int | None = None) -> dict[str, Any]:
        parts = urlsplit(target.base)
        spec = {"host": parts.hostname, "port": parts.port, "duration": duration or self.duration, "rate": rate,
                "connections": connections or self.connections,
                "requests": [base64.b64encode(r).decode() for r in target.requests]}
        specfile = self.workdir / f"{target.name}.json"
        specfile.write_text(json.dumps(spec))
        out = subprocess.run([sys.executable, "-m", "bench._load", str(specfile)], capture_output=True, text=True,
                             check=True, cwd=BENCH_DIR.parent).stdout
        result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
        result["statuses"] = {int(k): v for k, v in result["statuses"].items()}
        result["non2xx"] = sum(v for k, v in result["statuses"].items() if not 200 <= k < 300)
        result["tool"] = "bench._load"
        return result


def find_wrk() -> str | None:
    path = shutil.which("wrk")
    if path or os.environ.get("BENCH_NO_WRK"):
        return None if os.environ.get("BENCH_NO_WRK") else path
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("wrk not found: installing Debian's wrk with apt-get …", flush=True)
        for cmd in (["apt-get", "install", "-y", "-qq", "wrk"], ["apt-get", "update", "-qq"],
                    ["apt-get", "install", "-y", "-qq", "wrk"]):
            subprocess.run(cmd, capture_output=True, check=False)
            if shutil.which("wrk"):
                break
    path = shutil.which("wrk")
    if path is None:
        print("wrk unavailable: using the Python load generator (bench/_load.py)", flush=True)
    return path


# -- the stack -----------------------------------------------------------------------------------
def start_gateway_off(stack: Stack) -> str:
    port = free_port()
    env = {**stack.env, "GATEWAY_MIDDLEWARE_ENABLED": "false"}
    log = stack.data_dir / "gateway_off.log"
    stack.logs["gateway_off"] = log
    stack.procs["gateway_off"] = subprocess.Popen(
        [*uvicorn_cmd("gateway.main:create_app", port), "--no-proxy-headers"], env=env, cwd=BENCH_DIR.parent,
        stdout=log.open("ab"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return url
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("gateway (middleware off) did not start")


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


@dataclass
class Seed:
    member: dict[str, str]
    merchant: tuple[str, str] | None  # key_id, secret
    merchant_note: str
    qr_valid: bool


def seed(stack: Stack) -> Seed:
    gw = httpx.Client(base_url=stack.gateway, timeout=15)
    resp = gw.post("/api/v1/auth/sms/login", json={"phone": PHONE, "code": CODE})
    resp.raise_for_status()
    member = {"Authorization": f"Bearer {resp.json()['access_token']}"}
    paths = gw.get("/api/v1/openapi.json").json()["paths"]
    if "/api/v1/merchant/verify" not in paths:
        return Seed(member, None, "n/a (benefits not available)", False)
    try:
        resp = gw.post("/api/v1/auth/password/login", json={"username": ADMIN[0], "password": ADMIN[1]})
        resp.raise_for_status()
        admin = {"Authorization": f"Bearer {resp.json()['access_token']}"}
        merchant = gw.post("/api/v1/benefits/merchants", headers=admin, json={
            "name": "压测餐厅", "category": "food", "address": "广州市天河区体育西路 1 号", "lat": 23.13,
            "lng": 113.32, "phone": "020-12345678"})
        merchant.raise_for_status()
        cred = gw.post(f"/api/v1/benefits/merchants/{merchant.json()['id']}/credentials", headers=admin)
        cred.raise_for_status()
        key = (cred.json()["key_id"], cred.json()["secret"])
    except (httpx.HTTPError, KeyError) as exc:
        return Seed(member, None, f"n/a (merchant setup failed: {exc})", False)
    # A real member card for the QR; without membership the verify answers valid=false.
    try:
        org = gw.post("/api/v1/orgs", headers=admin, json={"name": "压测工会", "parent_id": None})
        org.raise_for_status()
        app = gw.post("/api/v1/membership/applications", headers=member, json={
            "real_name": "张三", "id_number": ID_NUMBER, "org_id": org.json()["id"], "employer_name": "压测公司"})
        app.raise_for_status()
        gw.post(f"/api/v1/membership/applications/{app.json()['id']}/approve", headers=admin).raise_for_status()
        return Seed(member, key, "valid member QR", True)
    except (httpx.HTTPError, KeyError):
        return Seed(member, key, "membership unavailable: verify of an unknown QR token", False)


def qr_token(stack: Stack, seeded: Seed) -> str:
    if seeded.qr_valid:
        resp = httpx.post(f"{stack.gateway}/api/v1/membership/me/qr", headers=seeded.member, timeout=10)
        if resp.status_code == 201:
            return str(resp.json()["token"])
    return "bench-unknown-qr-token"


# -- the figures ---------------------------------------------------------------------------------
def alternate(load: Load, runs: int, a: Any, b: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Run a then b, `runs` times, alternating (each a zero-arg callable returning a result)."""
    ra, rb = [], []
    for _ in range(runs):
        ra.append(a())
        rb.append(b())
    return ra, rb


def median_ratio(xs: list[float], ys: list[float]) -> float:
    return statistics.median(x / y for x, y in zip(xs, ys, strict=True) if y)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="every service on PostgreSQL (DATABASE_URL)")
    parser.add_argument("--postgres-url", default=os.environ.get("BENCH_DATABASE_URL",
                                                                 "postgresql://postgres@127.0.0.1:5432/"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--output", type=Path, help="also write the markdown table here")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="smartunion-bench-"))
    env = {"SMS_TEST_CODES": f"{PHONE}:{CODE}", "BOOTSTRAP_ADMIN_USERNAME": ADMIN[0],
           "BOOTSTRAP_ADMIN_PASSWORD": ADMIN[1], "RATE_LIMIT_SCALE": "100000", "LOG_LEVEL": "INFO"}
    if args.postgres:
        base = args.postgres_url.rstrip("/")
        env["DATABASE_URL"] = f"{base}/bench_{uuid.uuid4().hex[:8]}"
    load = Load(workdir, args.connections, args.duration)
    started = time.monotonic()
    print(f"starting the stack in {workdir} ({'PostgreSQL' if args.postgres else 'SQLite'}) …", flush=True)
    with running_stack(workdir / "data", env) as stack:
        seeded = seed(stack)
        check = httpx.get(f"{stack.gateway}/api/v1/me", headers=seeded.member, timeout=10)
        if check.status_code != 200:
            print(f"warning: GET /api/v1/me with the bench member's token answered {check.status_code}", flush=True)
        time.sleep(3)
        main_pids = [p.pid for p in stack.procs.values()]
        idle_rss = rss_mb(main_pids)
        off = start_gateway_off(stack)
        ident = stack.service_url("identity")
        host_of = lambda url: urlsplit(url).netloc  # noqa: E731
        rows: list[tuple[str, str, str, str, str]] = []

        # 1. hello route: identity's /healthz direct vs GET /api/v1/health/identity through the gateway.
        direct = Target("hello_direct", ident, [raw_get(host_of(ident), "/healthz")])
        via = Target("hello_gateway", stack.gateway, [raw_get(host_of(stack.gateway), "/api/v1/health/identity")])
        for t in (direct, via):
            load.throughput(t)  # warm up pools and caches
        rd, rg = alternate(load, args.runs, lambda: load.throughput(direct), lambda: load.throughput(via))
        hello = median_ratio([r["rps"] for r in rg], [r["rps"] for r in rd])
        sat = statistics.median(r["rps"] for r in rg)
        rows.append(("hello route via gateway ÷ direct", f"{hello:.2f}", "≥ 0.60", _ok(hello >= 0.60),
                     f"{_med(rg)} vs {_med(rd)} req/s"))
        bad = sum(r["non2xx"] for r in rd + rg)

        # 2. all middleware on ÷ off, same route, with a member's token (verified when on).
        tok = {"Authorization": seeded.member["Authorization"]}
        on = Target("mw_on", stack.gateway, [raw_get(host_of(stack.gateway), "/api/v1/health/identity", tok)])
        offt = Target("mw_off", off, [raw_get(host_of(off), "/api/v1/health/identity", tok)])
        load.throughput(offt)
        ron, roff = alternate(load, args.runs, lambda: load.throughput(on), lambda: load.throughput(offt))
        mw = median_ratio([r["rps"] for r in ron], [r["rps"] for r in roff])
        rows.append(("all gateway middleware on ÷ off", f"{mw:.2f}", "≥ 0.85", _ok(mw >= 0.85),
                     f"{_med(ron)} vs {_med(roff)} req/s"))
        bad += sum(r["non2xx"] for r in ron + roff)

        # 3. merchant verify via gateway ÷ direct (fresh signed requests: each nonce used once).
        if seeded.merchant is None:
            rows.append(("merchant verify via gateway ÷ direct", seeded.merchant_note, "≥ 0.70", "–", ""))
        else:
            key_id, secret = seeded.merchant
            bene = stack.service_url("benefits")

            def verify_target(name: str, base: str) -> Target:
                body = json.dumps({"qr_token": qr_token(stack, seeded)}).encode()
                count = int(max(2000, 4000 * args.duration))
                return Target(name, base, [raw_signed_post(host_of(base), "/api/v1/merchant/verify", body, key_id,
                                                           secret) for _ in range(count)])

            load.throughput(verify_target("verify_warm", stack.gateway))
            rvd, rvg = alternate(load, args.runs, lambda: load.throughput(verify_target("verify_direct", bene)),
                                 lambda: load.throughput(verify_target("verify_gateway", stack.gateway)))
            ver = median_ratio([r["rps"] for r in rvg], [r["rps"] for r in rvd])
            non2xx = sum(r["non2xx"] for r in rvd + rvg)
            rows.append(("merchant verify via gateway ÷ direct", f"{ver:.2f}", "≥ 0.70", _ok(ver >= 0.70),
                         f"{_med(rvg)} vs {_med(rvd)} req/s; {seeded.merchant_note}"
                         + (f"; {non2xx} non-2xx" if non2xx else "")))

        # 4. p99 at half the gateway's saturating rate, open loop, through the gateway vs direct.
        rate = sat / 2
        rpd, rpg = alternate(load, args.runs, lambda: load.python(direct, rate=rate, connections=64),
                             lambda: load.python(via, rate=rate, connections=64))
        p99 = median_ratio([r["p99_ms"] for r in rpg], [r["p99_ms"] for r in rpd])
        rows.append(("p99 via gateway ÷ direct at half the saturating rate", f"{p99:.2f}", "≤ 1.5",
                     _ok(p99 <= 1.5), f"{rate:.0f} req/s: p99 {statistics.median(r['p99_ms'] for r in rpg):.1f} "
                                      f"vs {statistics.median(r['p99_ms'] for r in rpd):.1f} ms"))

        # 5. 2× the saturating rate through the gateway, mixed routes: no 5xx but 503/429.
        mixed = Target("overload", stack.gateway, [
            raw_get(host_of(stack.gateway), "/api/v1/health/identity"),
            raw_get(host_of(stack.gateway), "/api/v1/me", tok),
            raw_get(host_of(stack.gateway), "/api/v1/jobs?limit=5", tok),
            raw_get(host_of(stack.gateway), "/api/v1/benefits/offers?limit=5", tok)])
        over = load.python(mixed, rate=2 * sat, connections=512, duration=max(3.0, args.duration))
        statuses = over["statuses"]
        bad5xx = sum(v for k, v in statuses.items() if k >= 500 and k != 503)
        rows.append(("5xx other than 503/429 at 2× the saturating rate", str(bad5xx), "0", _ok(bad5xx == 0),
                     f"{over['rps']:.0f} req/s answered of {2 * sat:.0f} offered; statuses "
                     + ", ".join(f"{'conn. error' if k < 0 else k}: {v}" for k, v in sorted(statuses.items()))))

        # 6. idle memory of everything `make run` starts.
        rows.append(("idle RSS of all processes (gateway + 5 services)", f"{idle_rss:.0f} MB", "≤ 600 MB",
                     _ok(idle_rss <= 600), "measured after start and seeding, before load"))

        gen = max(r.get("generator_cpu", 0) for r in rd + rg + ron + roff)
        gen_py = max(r.get("generator_cpu", 0) for r in rpd + rpg + [over])
        notes = [f"closed-loop tool: {rd[0]['tool']}, {args.connections} connections, {args.duration:g} s × "
                 f"{args.runs} alternating runs per side; generator CPU ≤ {gen:.0%} of one core "
                 f"(open-loop Python generator ≤ {gen_py:.0%})",
                 f"unexpected non-2xx answers in the throughput runs: {bad}",
                 f"database: {'PostgreSQL' if args.postgres else 'SQLite'}; total bench time "
                 f"{time.monotonic() - started:.0f} s"]
    table = render(rows, notes)
    print("\n" + table, flush=True)
    if args.output:
        args.output.write_text(table)
    return 0


def _ok(flag: bool) -> str:
    return "met" if flag else "MISSED"


def _med(results: list[dict[str, Any]]) -> str:
    return f"{statistics.median(r['rps'] for r in results):.0f}"


def render(rows: list[tuple[str, str, str, str, str]], notes: list[str]) -> str:
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    lines = [f"Measured {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} on {machine}.", "",
             "| figure | measured | target | | detail |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| {a} | {b} | {c} | {d} | {e} |" for a, b, c, d, e in rows]
    lines += [""] + [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
