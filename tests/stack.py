"""Start real processes (uvicorn) on free ports: every service plus the gateway, the way
`make run` does, for end-to-end tests over HTTP."""

from __future__ import annotations

import hashlib
import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from services.common.config import SERVICE_NAMES, SERVICE_PORT_OFFSETS

REPO = Path(__file__).resolve().parents[1]


def _port_range() -> range:
    """Ports below the kernel's ephemeral range (outgoing connections never take them), and a
    separate slice per pytest-xdist worker so two workers' stacks cannot pick the same ports."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = int(worker[2:]) if worker[2:].isdigit() else 0
    start = 12000 + (index % 8) * 2500
    return range(start, start + 2500)


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port_block(size: int) -> int:
    """A base port such that base … base+size are free (best effort: checked, not reserved)."""
    ports = _port_range()
    for _ in range(500):
        base = random.randrange(ports.start, ports.stop - size - 1)
        if all(_free(base + offset) for offset in range(size + 1)):
            return base
    raise RuntimeError("no free port block")


def free_port() -> int:
    return free_port_block(0)


def uvicorn_cmd(target: str, port: int) -> list[str]:
    return [sys.executable, "-m", "uvicorn", "--factory", target, "--host", "127.0.0.1", "--port", str(port),
            "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"]


@dataclass
class Stack:
    env: dict[str, str]
    data_dir: Path
    gateway_port: int
    services_base: int
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    logs: dict[str, Path] = field(default_factory=dict)

    @property
    def gateway(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    def service_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.services_base + SERVICE_PORT_OFFSETS[name]}"

    def command(self, name: str) -> list[str]:
        if name == "gateway":
            # The gateway decides itself whose X-Forwarded-For to believe (GATEWAY_TRUSTED_PROXIES).
            return [*uvicorn_cmd("gateway.main:create_app", self.gateway_port), "--no-proxy-headers"]
        return uvicorn_cmd(f"services.{name}.main:create_app", self.services_base + SERVICE_PORT_OFFSETS[name])

    def start(self, name: str) -> None:
        log = self.data_dir / f"{name}.log"
        self.logs[name] = log
        handle = log.open("ab")
        self.procs[name] = subprocess.Popen(self.command(name), env=self.env, cwd=REPO,
                                            stdout=handle, stderr=subprocess.STDOUT)

    def kill(self, name: str, sig: int = 9) -> None:
        proc = self.procs[name]
        proc.send_signal(sig)
        proc.wait(timeout=10)

    def wait_ready(self, name: str | None = None, timeout: float = 180) -> None:
        # Generous: on a loaded 2-core machine six Python processes can take a minute to import.
        url = (self.gateway if name in (None, "gateway") else self.service_url(name or "")) + "/readyz"
        if name == "gateway":
            url = self.gateway + "/healthz"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            for proc_name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{proc_name} died: {self.logs[proc_name].read_text()[-3000:]}")
            time.sleep(0.2)
        raise TimeoutError(f"{url} not ready")

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


@contextmanager
def running_stack(data_dir: Path, extra_env: dict[str, str] | None = None,
                  services: tuple[str, ...] = SERVICE_NAMES, *, migrate: bool = True,
                  ports: tuple[int, int] | None = None) -> Iterator[Stack]:
    """`ports` = (services port base, gateway port) instead of free ones; `migrate=False` when the
    databases are already at head (a second set of processes on the same PostgreSQL)."""
    from scripts.migrate import main as migrate_main

    base = ports[0] if ports else free_port_block(len(SERVICE_NAMES))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "COV_"))}
    env.update({
        "SMARTUNION_DATA_DIR": str(data_dir), "SERVICES_PORT_BASE": str(base), "PYTHONPATH": str(REPO),
        "SMARTUNION_INTERNAL_SECRET": "e2e-internal-secret-0123456789abcdef", "LOG_LEVEL": "INFO",
        # Every test client is 127.0.0.1: raise the gateway's per-IP limits (tests of the limits set it).
        "RATE_LIMIT_SCALE": "1000",
    })
    env.update(extra_env or {})
    # Stacks that share this machine's Redis must not consume each other's event streams; sets
    # of processes on one database (replicas) are one deployment and share the namespace.
    owner = env.get("DATABASE_URL") or str(data_dir)
    own_namespace = "SMARTUNION_REDIS_NAMESPACE" not in env
    env.setdefault("SMARTUNION_REDIS_NAMESPACE", "t" + hashlib.sha1(owner.encode()).hexdigest()[:12])
    stack = Stack(env=env, data_dir=data_dir, gateway_port=ports[1] if ports else base,
                  services_base=base)  # a free block's base is unused: services take base+1…+5
    if migrate:
        saved = dict(os.environ)
        os.environ.update(env)
        try:
            migrate_main(list(services))
        finally:
            os.environ.clear()
            os.environ.update(saved)
    try:
        for name in (*services, "gateway"):
            stack.start(name)
        for name in services:
            stack.wait_ready(name)
        stack.wait_ready("gateway")
        yield stack
    finally:
        stack.stop()
        if own_namespace and env.get("REDIS_URL"):
            _drop_redis_namespace(env["REDIS_URL"], env["SMARTUNION_REDIS_NAMESPACE"])


def _drop_redis_namespace(url: str, namespace: str) -> None:
    """A test stack's streams, nonces and limits must not pile up in the machine's Redis."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{namespace}:*", count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start:start + 500])
    except redis.RedisError:
        pass  # Redis gone already (a fault test): nothing to clean
    finally:
        client.close()
