"""Fixtures shared by every test package.

`db_url(service)` gives a freshly migrated database for that service on the current backend;
API tests are parametrized over `backend` so they run on SQLite and, when reachable, PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.apps import TEST_INTERNAL_SECRET
from tests.backends import backends, in_ci, postgres_url, redis_url
from tests.databases import DatabaseFactory
from tests.tokens import TokenFactory


def pytest_report_header(config: pytest.Config) -> str:
    pg = "PostgreSQL: yes" if postgres_url() else "PostgreSQL: SKIPPED (unreachable; set TEST_DATABASE_URL)"
    rd = "Redis: yes" if redis_url() else "Redis: SKIPPED (unreachable; set TEST_REDIS_URL)"
    return f"backends — SQLite: yes; {pg}; {rd}"


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # type: ignore[no-untyped-def]
    terminalreporter.write_line(pytest_report_header(config))


def pytest_sessionstart(session: pytest.Session) -> None:
    if in_ci() and (postgres_url() is None or redis_url() is None):
        raise pytest.UsageError("CI=true but PostgreSQL or Redis is unreachable: refusing to skip them silently")


@pytest.fixture(scope="session")
def database_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(tmp_path_factory.mktemp("templates"))
    yield factory
    factory.drop_all()


@pytest.fixture(params=backends())
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(backend: str, database_factory: DatabaseFactory, tmp_path: Path) -> Callable[[str], str]:
    def make(service: str) -> str:
        if backend == "postgres":
            return database_factory.postgres_url(service)
        return database_factory.sqlite_url(service, tmp_path / f"{service}.db")

    return make


@pytest.fixture
def redis_test_url() -> str:
    url = redis_url()
    if url is None:
        pytest.skip("Redis unreachable")
    return url


@pytest.fixture(scope="session")
def tokens() -> TokenFactory:
    return TokenFactory()


@pytest.fixture
def common_env(tmp_path: Path) -> dict[str, object]:
    """Settings every in-process service gets in tests."""
    return {"SMARTUNION_DATA_DIR": tmp_path, "SMARTUNION_INTERNAL_SECRET": TEST_INTERNAL_SECRET,
            "LOG_LEVEL": "WARNING"}
