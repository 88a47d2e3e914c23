"""QR check throughput at 1,000 vs 1,000,000 members (target: ratio ≥ 0.85).

    python -m bench.membership_qr_check [--postgres URL] [--large 1000000] [--duration 5] [--runs 3]

Seeds two databases with bench/membership_seed.py (kept under bench/results/ and reused), gives
each 5,000 live QR codes of random members (minted with the service's own codec and key, rows
inserted directly, expiry 30 minutes so the run is not cut short by the 60 s TTL), starts one real
membership server (uvicorn, as `make run` does) per database, and drives POST /internal/qr/check
with wrk (closed loop, keep-alive connections, one thread). Runs alternate between the two servers, so drift
on the machine hits both; the figure is the median of the runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import re
import sqlite3
import statistics
import subprocess
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.membership_seed import postgres_url, seed_postgres, seed_sqlite
from services.common.crypto import PiiCipher
from services.common.internal_auth import ServiceSigner
from services.membership.qr.codec import QrCodec
from tests.stack import free_port, uvicorn_cmd

RESULTS = Path(__file__).resolve().parent / "results"
SECRET = "bench-internal-secret-0123456789abcdef"
QR_KEY = "bench-qr-key-0123456789abcdef0123456789"
TOKENS = 5_000


def _mint(member_ids: list[str]) -> tuple[list[str], list[tuple[str, str, datetime]]]:
    codec = QrCodec.from_spec(QR_KEY)
    expires = int(time.time()) + 1800
    tokens, rows = [], []
    for mid in member_ids:
        token, token_id = codec.issue(expires)
        tokens.append(token)
        rows.append((token_id, mid, datetime.fromtimestamp(expires, UTC)))
    return tokens, rows


def prepare_sqlite(n: int, pii: PiiCipher, reseed: bool) -> tuple[str, list[str]]:
    path = RESULTS / f"membership-{n}.db"
    if reseed or not path.exists():
        t0 = time.perf_counter()
        seed_sqlite(path, n, pii)
        print(f"  seeded {n:,} members (SQLite) in {time.perf_counter() - t0:.1f} s", flush=True)
    conn = sqlite3.connect(path, isolation_level=None)
    ids = [r[0] for r in conn.execute("SELECT id FROM members ORDER BY random() LIMIT ?", (TOKENS,))]
    tokens, rows = _mint(ids)
    conn.execute("DELETE FROM qr_tokens")
    conn.executemany("INSERT INTO qr_tokens (id, member_id, expires_at) VALUES (?, ?, ?)",
                     [(a, b, c.replace(tzinfo=None).isoformat(" ")) for a, b, c in rows])
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return f"sqlite+aiosqlite:///{path}", tokens


async def prepare_postgres(server: str, n: int, pii: PiiCipher, reseed: bool) -> tuple[str, list[str]]:
    import asyncpg
    from sqlalchemy.engine import make_url

    url = postgres_url(server, f"bench_{n}")
    u = make_url(url)
    kwargs = {"user": u.username, "host": u.host, "port": u.port or 5432, "database": u.database}
    try:
        conn = await asyncpg.connect(**kwargs)
        count = await conn.fetchval("SELECT count(*) FROM members")
        await conn.close()
    except (OSError, asyncpg.PostgresError):
        count = -1
    if reseed or count != n:
        t0 = time.perf_counter()
        await seed_postgres(url, n, pii)
        print(f"  seeded {n:,} members (PostgreSQL) in {time.perf_counter() - t0:.1f} s", flush=True)
    conn = await asyncpg.connect(**kwargs)
    ids = [r[0] for r in await conn.fetch("SELECT id FROM members ORDER BY random() LIMIT $1", TOKENS)]
    tokens, rows = _mint(ids)
    await conn.execute("DELETE FROM qr_tokens")
    await conn.copy_records_to_table("qr_tokens", records=rows, columns=("id", "member_id", "expires_at"))
    await conn.close()
    return url, tokens


def start_server(db_url: str, data_dir: Path, log: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(Path.cwd()), "MEMBERSHIP_DATABASE_URL": db_url,
           "SMARTUNION_DATA_DIR": str(data_dir), "SMARTUNION_INTERNAL_SECRET": SECRET,
           "MEMBERSHIP_QR_KEY": QR_KEY, "LOG_LEVEL": "WARNING", "SERVICES_PORT_BASE": str(free_port())}
    proc = subprocess.Popen(uvicorn_cmd("services.membership.main:create_app", port), env=env,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return proc, port
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"membership did not start; see {log}")


WRK_LUA = """
local tokens = {}
local n = 0
init = function(args)
  for line in io.lines(args[1]) do n = n + 1; tokens[n] = line end
end
local i = 0
request = function()
  i = i % n + 1
  return wrk.format("POST", "/internal/qr/check",
    {["content-type"] = "application/json", ["x-service-token"] = "SERVICE_TOKEN"},
    '{"token":"' .. tokens[i] .. '"}')
end
"""


def load(port: int, tokens: list[str], duration: float, connections: int) -> dict[str, float]:
    """wrk, closed loop on keep-alive connections; one thread (the server has the other core)."""
    service_token = ServiceSigner(SECRET, "benefits").token_for("membership")
    with tempfile.TemporaryDirectory() as tmp:
        script, token_file = Path(tmp) / "check.lua", Path(tmp) / "tokens.txt"
        script.write_text(WRK_LUA.replace("SERVICE_TOKEN", service_token))
        token_file.write_text("\n".join(tokens) + "\n")
        out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{round(duration)}s", "--latency", "-s", str(script),
                              f"http://127.0.0.1:{port}", "--", str(token_file)],
                             capture_output=True, check=True, text=True).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(out)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"50%\s+([\d.]+\w+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"99%\s+([\d.]+\w+)", out).group(1))  # type: ignore[union-attr]
    return {"rps": rps, "p50_ms": p50, "p99_ms": p99}


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", help="server URL, e.g. postgresql://postgres@127.0.0.1:5432/")
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--reseed", action="store_true")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    data_dir = RESULTS / "data"
    data_dir.mkdir(exist_ok=True)
    pii = PiiCipher.from_data_dir(data_dir / "pii-membership.keys")
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(f"QR check bench on {backend}, {platform.node()} ({os.cpu_count()} cores), "
          f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC", flush=True)
    prepared = {}
    for n in (args.small, args.large):
        if args.postgres:
            prepared[n] = asyncio.run(prepare_postgres(args.postgres, n, pii, args.reseed))
        else:
            prepared[n] = prepare_sqlite(n, pii, args.reseed)
    with ExitStack() as stack:
        ports = {}
        for n, (url, _tokens) in prepared.items():
            proc, port = start_server(url, data_dir, RESULTS / f"membership-{n}.log")
            stack.callback(proc.wait, 10)
            stack.callback(proc.terminate)
            ports[n] = port
        for n, (_url, tokens) in prepared.items():
            random.shuffle(tokens)
            # Sanity: the first code is valid through the real endpoint.
            check = httpx.post(f"http://127.0.0.1:{ports[n]}/internal/qr/check", json={"token": tokens[0]},
                               headers={"x-service-token": ServiceSigner(SECRET, "benefits").token_for("membership")})
            assert check.json()["valid"] is True, check.text
        rps: dict[int, list[float]] = {n: [] for n in prepared}
        for run in range(args.runs):
            for n in prepared:
                result = load(ports[n], prepared[n][1], args.duration, args.connections)
                rps[n].append(result["rps"])
                print(f"  run {run + 1}: {n:>9,} members  {result['rps']:8.0f} req/s  "
                      f"p50 {result['p50_ms']:.1f} ms  p99 {result['p99_ms']:.1f} ms", flush=True)
    small, large = statistics.median(rps[args.small]), statistics.median(rps[args.large])
    print(f"median: {args.small:,} → {small:.0f} req/s; {args.large:,} → {large:.0f} req/s; "
          f"ratio {large / small:.3f} (target ≥ 0.85)", flush=True)



if __name__ == "__main__":
    main()
