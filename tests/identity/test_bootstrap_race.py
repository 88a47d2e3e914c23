"""Replicas of identity start at the same moment and each ensures the bootstrap admin: one
creates it, the others find it — none fails its start-up (tests/replicas caught this)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from services.common.db import Database
from services.identity.accounts.models import Account
from services.identity.accounts.service import ensure_bootstrap_admin


@pytest.fixture
def identity_url(db_url: Callable[[str], str]) -> str:
    return db_url("identity")  # migrating runs its own event loop: a synchronous fixture


async def test_concurrent_bootstrap_admin(identity_url: str) -> None:
    db = Database(identity_url)

    async def start_replica() -> None:
        async with db.sessionmaker() as session:
            await ensure_bootstrap_admin(session=session, username="root-admin", password="root-admin-password")
            await session.commit()

    try:
        await asyncio.gather(*(start_replica() for _ in range(3)))
        async with db.sessionmaker() as session:
            count = await session.scalar(select(func.count()).select_from(Account)
                                         .where(Account.username == "root-admin"))
        assert count == 1
    finally:
        await db.dispose()
