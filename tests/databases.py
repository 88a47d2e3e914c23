"""Test databases built by the real migrations (`alembic upgrade head`), once per session:
SQLite tests copy a migrated template file (fast and fully isolated); PostgreSQL tests share one
migrated database per service and truncate its tables before each test."""

from __future__ import annotations

import asyncio
import importlib
import os
import shutil
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from services.common.config import database_url_for_service
from services.common.migrations import ensure_database, upgrade
from tests.backends import postgres_url


class DatabaseFactory:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._templates: dict[str, Path] = {}
        self._pg: dict[str, str] = {}

    def sqlite_url(self, service: str, dest: Path) -> str:
        template = self._templates.get(service)
        if template is None:
            template = self.root / f"template-{service}.db"
            upgrade(service, f"sqlite+aiosqlite:///{template}")
            self._templates[service] = template
        shutil.copyfile(template, dest)
        return f"sqlite+aiosqlite:///{dest}"

    def postgres_url(self, service: str) -> str:
        url = self._pg.get(service)
        if url is None:
            server = postgres_url()
            assert server is not None
            name = f"su_test_{os.getpid()}"
            url = database_url_for_service(server.rstrip("/") + "/" + name, service)
            asyncio.run(_drop_database(url))
            upgrade(service, url)
            self._pg[service] = url
        asyncio.run(_truncate(service, url))
        return url

    def drop_all(self) -> None:
        for url in self._pg.values():
            asyncio.run(_drop_database(url))


async def _truncate(service: str, url: str) -> None:
    metadata = importlib.import_module(f"services.{service}.models").metadata
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    if not names:
        return
    engine = create_async_engine(url, poolclass=NullPool)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    await engine.dispose()


async def _drop_database(url: str) -> None:
    from sqlalchemy.engine import make_url

    u = make_url(url)
    await ensure_database(str(u.set(database="postgres")))
    admin = create_async_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)'))
    await admin.dispose()
