"""One QR token fired at consume from many tasks, spread over two replicas of the service that
share the database: exactly one success, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio

from services.membership.config import MembershipSettings
from services.membership.main import create_app
from tests.apps import running
from tests.membership.conftest import World, service_headers
from tests.tokens import TokenFactory

TASKS = 40


async def test_exactly_one_consumer_wins(world: World, membership_settings: MembershipSettings,
                                         tokens: TokenFactory) -> None:
    headers, app = await world.member()
    tokens_to_try = [await world.qr(headers) for _ in range(2)]
    # A second replica: its own process state (engine, pool, caches); shared database and keys.
    async with running(create_app(membership_settings, verifier=tokens.verifier())) as replica:
        for token in tokens_to_try:
            async def consume(i: int, token: str = token) -> dict:
                client = world.client if i % 2 else replica
                resp = await client.post("/internal/qr/consume", json={"token": token},
                                         headers=service_headers())
                assert resp.status_code == 200, resp.text
                return resp.json()

            results = await asyncio.gather(*(consume(i) for i in range(TASKS)))
            winners = [r for r in results if r["valid"]]
            assert len(winners) == 1
            assert winners[0]["member"]["member_id"] == app["member_id"]
            assert all(r["reason"] == "used" for r in results if not r["valid"])
