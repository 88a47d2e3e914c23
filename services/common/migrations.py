"""Alembic plumbing shared by every service's `migrations/<service>/env.py`, and the
programmatic upgrade used by `make run`, the tests and the migration container."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import create_async_engine

REPO_ROOT = Path(__file__).resolve().parents[2]


def alembic_config(service: str, url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(REPO_ROOT / "migrations" / service))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["service"] = service
    return cfg


async def ensure_database(url: str) -> None:
    """Create the service's PostgreSQL database if it does not exist (SQLite creates itself)."""
    u = make_url(url)
    if not u.drivername.startswith("postgresql"):
        return
    admin = create_async_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=pool.NullPool)
    try:
        async with admin.connect() as conn:
            exists = await conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": u.database})
            if not exists:
                await conn.execute(text(f'CREATE DATABASE "{u.database}"'))
    finally:
        await admin.dispose()


def upgrade(service: str, url: str, revision: str = "head") -> None:
    asyncio.run(ensure_database(url))
    command.upgrade(alembic_config(service, url), revision)


def downgrade(service: str, url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(service, url), revision)


# -- used inside env.py ------------------------------------------------------------------------
def _do_run(connection: Connection, metadata: MetaData, **kwargs: Any) -> None:
    context.configure(connection=connection, target_metadata=metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True, **kwargs)
    with context.begin_transaction():
        context.run_migrations()


def run_env(metadata: MetaData, **kwargs: Any) -> None:
    url = context.config.get_main_option("sqlalchemy.url") or ""
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True, **kwargs)
        with context.begin_transaction():
            context.run_migrations()
        return

    connection = context.config.attributes.get("connection")
    if connection is not None:
        _do_run(connection, metadata, **kwargs)
        return

    async def _run() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        async with engine.connect() as conn:
            await conn.run_sync(_do_run, metadata, **kwargs)
        await engine.dispose()

    asyncio.run(_run())
