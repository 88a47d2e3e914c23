"""`make replicas`: two complete sets of processes on this machine — set A and set B, each with its
own gateway and its own five services on their own ports — sharing one PostgreSQL server
(`DATABASE_URL`) and one Redis (`REDIS_URL`), with the same production-style secrets (internal
secret, PII keys, an Ed25519 token-signing key, the QR MAC key). That is what several replicas
behind a load balancer look like: a client may reach A for one request and B for the next.
Prints both gateways' URLs; Ctrl-C stops everything.

tests/replicas/ starts the same two sets and proves that single-use QR codes, merchant nonces,
idempotency keys, rate limits, refresh-token rotation and offer quotas hold across them.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.common.config import SERVICE_NAMES
from tests.stack import Stack, free_port_block, running_stack

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/smartunion_replicas"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
# make replicas: fixed ports so the URLs are the same every time.
PORTS = {"a": (8300, 8010), "b": (8400, 8020)}


def production_secrets() -> dict[str, str]:
    """Fresh secrets of the production shape, to be shared by every replica."""
    pem = Ed25519PrivateKey.generate().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                     serialization.NoEncryption()).decode()
    pii = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    return {
        "SMARTUNION_INTERNAL_SECRET": secrets.token_urlsafe(32),
        "SMARTUNION_PII_KEYS": f"r1:{pii}",
        "IDENTITY_SIGNING_KEYS": pem,
        "MEMBERSHIP_QR_KEY": secrets.token_urlsafe(32),
    }


def stored_secrets(path: Path) -> dict[str, str]:
    """The secrets of an earlier `make replicas` (its database holds data encrypted with them),
    or new ones, kept in the data dir (mode 600) like the development keys."""
    if path.exists():
        stored: dict[str, str] = json.loads(path.read_text())
        return stored
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fresh = production_secrets()
    path.write_text(json.dumps(fresh))
    path.chmod(0o600)
    return fresh


def replica_env(database_url: str, redis_url: str, shared: dict[str, str],
                extra: dict[str, str] | None = None) -> dict[str, str]:
    return {"DATABASE_URL": database_url, "REDIS_URL": redis_url, **shared, **(extra or {})}


def migrate(env: dict[str, str]) -> None:
    from scripts.migrate import main as migrate_main

    saved = dict(os.environ)
    os.environ.update(env)
    try:
        migrate_main([])
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextmanager
def two_sets(root: Path, env: dict[str, str],
             ports: dict[str, tuple[int, int]] | None = None) -> Iterator[tuple[Stack, Stack]]:
    """Migrate once, then start set A and set B side by side (each in its own data dir, which
    holds only logs: every secret comes from `env`)."""
    migrate(env)
    if ports is None:  # two free blocks that do not overlap (gateway on the base, services base+1…+5)
        first = free_port_block(len(SERVICE_NAMES))
        second = first
        while abs(second - first) <= len(SERVICE_NAMES):
            second = free_port_block(len(SERVICE_NAMES))
        ports = {"a": (first, first), "b": (second, second)}
    managers: dict[str, AbstractContextManager[Stack]] = {
        name: running_stack(root / name, env, migrate=False, ports=ports[name]) for name in ("a", "b")}
    for name in managers:
        (root / name).mkdir(parents=True, exist_ok=True)
    started: dict[str, Stack] = {}
    errors: list[BaseException] = []

    def enter(name: str) -> None:
        try:
            started[name] = managers[name].__enter__()
        except BaseException as exc:  # reported below, after both attempts
            errors.append(exc)

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(enter, managers))
    try:
        if errors:
            raise errors[0]
        yield started["a"], started["b"]
    finally:
        for name in started:
            managers[name].__exit__(None, None, None)


def main() -> int:
    database_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    redis_url = os.environ.get("REDIS_URL", DEFAULT_REDIS_URL)
    extra = {"BOOTSTRAP_ADMIN_USERNAME": os.environ.get("BOOTSTRAP_ADMIN_USERNAME", "admin"),
             "BOOTSTRAP_ADMIN_PASSWORD": os.environ.get("BOOTSTRAP_ADMIN_PASSWORD", "admin-demo-2026"),
             "SMS_TEST_CODES": os.environ.get("SMS_TEST_CODES", "13800000001:123456,13800000002:123456"),
             "RATE_LIMIT_SCALE": os.environ.get("RATE_LIMIT_SCALE", "1")}
    root = Path(os.environ.get("SMARTUNION_DATA_DIR", ".data")).resolve() / "replicas"
    env = replica_env(database_url, redis_url, stored_secrets(root / "secrets.json"), extra)

    def _stop(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    try:
        with two_sets(root, env, PORTS) as (a, b):
            print(f"""
Two replica sets are running against {database_url.rsplit('@', 1)[-1]} (one database per service,
named <db>_<service>) and Redis {redis_url.rsplit('@', 1)[-1]}, with the same secrets ({root}/secrets.json).
  set A  gateway {a.gateway}   services on ports {a.services_base + 1}-{a.services_base + 5}
  set B  gateway {b.gateway}   services on ports {b.services_base + 1}-{b.services_base + 5}
  logs   {root}/a/*.log, {root}/b/*.log
  admin  {extra['BOOTSTRAP_ADMIN_USERNAME']} / {extra['BOOTSTRAP_ADMIN_PASSWORD']}
  test phones (phone:SMS code)  {extra['SMS_TEST_CODES']}
Log in through A, use the tokens through B. Press Ctrl-C to stop.
""", flush=True)
            while all(p.poll() is None for s in (a, b) for p in s.procs.values()):
                time.sleep(0.5)
            print("!!! a process exited; stopping", file=sys.stderr)
            return 1
    except KeyboardInterrupt:
        print("\nstopping…", flush=True)
        return 0


if __name__ == "__main__":
    sys.exit(main())
