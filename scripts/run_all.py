"""`make run`: migrate, start every service and the gateway, seed demo data into an empty data
dir, print where everything is, and supervise. Ctrl-C stops all. A process that dies is reported
loudly and restarted (at most 3 times a minute); past that the whole run stops."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from scripts import migrate
from services.common.config import SERVICE_NAMES, SERVICE_PORT_OFFSETS, read_or_create_secret

DEMO_ADMIN = ("admin", "admin-demo-2026")
DEMO_SMS = "13800000001:123456,13800000002:123456,13800000003:123456"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    data_dir = Path(env.setdefault("SMARTUNION_DATA_DIR", ".data")).resolve()
    env["SMARTUNION_DATA_DIR"] = str(data_dir)
    (data_dir / "keys").mkdir(parents=True, exist_ok=True, mode=0o700)
    # One internal secret for all processes, created before any of them starts (no race).
    env.setdefault("SMARTUNION_INTERNAL_SECRET", read_or_create_secret(data_dir / "keys" / "internal.secret"))
    if env.get("SMARTUNION_ENV", "development") != "production":
        env.setdefault("BOOTSTRAP_ADMIN_USERNAME", DEMO_ADMIN[0])
        env.setdefault("BOOTSTRAP_ADMIN_PASSWORD", DEMO_ADMIN[1])
        env.setdefault("SMS_TEST_CODES", DEMO_SMS)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    return env


def _commands(env: dict[str, str]) -> dict[str, list[str]]:
    base = int(env.get("SERVICES_PORT_BASE", "8100"))
    uvicorn = [sys.executable, "-m", "uvicorn", "--factory", "--host", "127.0.0.1", "--loop", "uvloop",
               "--http", "httptools", "--no-access-log", "--no-server-header", "--log-level", "warning"]
    commands = {name: [*uvicorn, f"services.{name}.main:create_app", "--port", str(base + SERVICE_PORT_OFFSETS[name])]
                for name in SERVICE_NAMES}
    # The gateway decides itself whose X-Forwarded-For to believe (GATEWAY_TRUSTED_PROXIES).
    commands["gateway"] = [*uvicorn, "gateway.main:create_app", "--port", env.get("GATEWAY_PORT", "8000"),
                           "--no-proxy-headers"]
    return commands


class Supervisor:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.commands = _commands(env)
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.restarts: dict[str, list[float]] = {name: [] for name in self.commands}
        self.stopping = False

    def start(self, name: str) -> None:
        self.procs[name] = subprocess.Popen(self.commands[name], env=self.env)  # noqa: S603

    def start_all(self) -> None:
        for name in self.commands:
            self.start(name)

    def stop_all(self) -> None:
        self.stopping = True
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + 10
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()

    def check(self) -> bool:
        """Restart crashed processes; False when one keeps crashing."""
        for name, proc in list(self.procs.items()):
            code = proc.poll()
            if code is None or self.stopping:
                continue
            now = time.monotonic()
            recent = [t for t in self.restarts[name] if now - t < 60]
            print(f"\n!!! {name} exited with code {code}", file=sys.stderr, flush=True)
            if len(recent) >= 3:
                print(f"!!! {name} crashed 3 times within a minute; stopping everything", file=sys.stderr)
                return False
            recent.append(now)
            self.restarts[name] = recent
            print(f"!!! restarting {name}", file=sys.stderr, flush=True)
            self.start(name)
        return True


async def _wait_ready(gateway: str, timeout: float = 90) -> bool:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(f"{gateway}/readyz", timeout=2)).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.3)
    return False


def main() -> int:
    env = _env()
    data_dir = Path(env["SMARTUNION_DATA_DIR"])
    fresh = not env.get("DATABASE_URL") and not any(data_dir.glob("*.db"))
    os.environ.update(env)
    migrate.main([])
    supervisor = Supervisor(env)

    def _stop(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    gateway = f"http://127.0.0.1:{env.get('GATEWAY_PORT', '8000')}"
    try:
        supervisor.start_all()
        if not asyncio.run(_wait_ready(gateway)):
            print("!!! the stack did not become ready within 90 s", file=sys.stderr)
            return 1
        if fresh:
            from scripts.seed_demo import seed

            asyncio.run(seed(gateway, env))
        _banner(gateway, env, fresh)
        while supervisor.check():
            time.sleep(0.5)
        return 1
    except KeyboardInterrupt:
        print("\nstopping…", flush=True)
        return 0
    finally:
        supervisor.stop_all()


def _banner(gateway: str, env: dict[str, str], fresh: bool) -> None:
    print(f"""
Smart Union is running.
  gateway      {gateway}   (health {gateway}/healthz, ready {gateway}/readyz)
  data dir     {env['SMARTUNION_DATA_DIR']}{'  (demo data seeded)' if fresh else ''}
  admin login  POST {gateway}/api/v1/auth/password/login  {{"username": "{env.get('BOOTSTRAP_ADMIN_USERNAME')}", ...}}
  test phones  {env.get('SMS_TEST_CODES', '(none)')}   (phone:fixed SMS code)
  demo staff   see README.md "Demo data"
Press Ctrl-C to stop.
""", flush=True)


if __name__ == "__main__":
    sys.exit(main())
