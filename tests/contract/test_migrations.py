"""Every service's migrations: upgrade head on an empty database, down to base and up again,
and no drift between the models and the migrations (what `alembic check` checks)."""

from __future__ import annotations

import asyncio
import importlib
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from services.common.config import SERVICE_NAMES, database_url_for_service
from services.common.migrations import downgrade, upgrade
from tests.backends import postgres_url
from tests.databases import _drop_database


def _url(backend: str, service: str, tmp_path: Path) -> str:
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / f'{service}.db'}"
    server = postgres_url()
    assert server
    url = database_url_for_service(server.rstrip("/") + "/su_migr", service)
    asyncio.run(_drop_database(url))
    return url


def _diff_and_tables(service: str, url: str) -> tuple[list, set[str]]:
    metadata = importlib.import_module(f"services.{service}.models").metadata
    env = importlib.import_module(f"migrations.{service}.env_options") if Path(
        f"migrations/{service}/env_options.py").exists() else None
    opts = getattr(env, "OPTIONS", {}) if env else {}

    async def run() -> tuple[list, set[str]]:
        engine = create_async_engine(url, poolclass=NullPool)
        async with engine.connect() as conn:
            def inner(sync_conn):  # type: ignore[no-untyped-def]
                ctx = MigrationContext.configure(sync_conn, opts={"compare_type": True, **opts})
                return compare_metadata(ctx, metadata), set(inspect(sync_conn).get_table_names())
            result = await conn.run_sync(inner)
        await engine.dispose()
        return result

    return asyncio.run(run())


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_upgrade_downgrade_upgrade_without_drift(service: str, backend: str, tmp_path: Path) -> None:
    url = _url(backend, service, tmp_path)
    metadata = importlib.import_module(f"services.{service}.models").metadata
    upgrade(service, url)
    downgrade(service, url, "base")
    _, tables = _diff_and_tables(service, url)
    assert tables <= {"alembic_version"}, f"tables left after downgrade: {tables}"
    upgrade(service, url)
    diff, tables = _diff_and_tables(service, url)
    assert {t.name for t in metadata.sorted_tables} <= tables
    assert diff == [], f"models and migrations differ: {diff}"
    if backend == "postgres":
        asyncio.run(_drop_database(url))
