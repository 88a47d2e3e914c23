"""Which databases and Redis the suite can reach. SQLite always; PostgreSQL and Redis when
TEST_DATABASE_URL / TEST_REDIS_URL (or this machine's defaults) answer. In CI (CI=true) an
unreachable PostgreSQL or Redis is a failure, not a skip."""

from __future__ import annotations

import os
import socket
from functools import cache
from urllib.parse import urlsplit

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


def _reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5432), timeout=1):
            return True
    except OSError:
        return False


@cache
def postgres_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL", DEFAULT_PG)
    return url if url and _reachable(url) else None


@cache
def redis_url() -> str | None:
    url = os.environ.get("TEST_REDIS_URL", DEFAULT_REDIS)
    if not url:
        return None
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=1):
            return url
    except OSError:
        return None


def backends() -> list[str]:
    return ["sqlite", "postgres"] if postgres_url() else ["sqlite"]


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")
