"""`job_application_seen` (CONTRACT §9): the first time the poster's listing shows an application,
its applicant gets one notice, written to the outbox in the same transaction as `seen_at`."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from sqlalchemy import select

from services.jobs.events.models import OutboxEvent
from tests.jobs.conftest import World


@pytest.fixture
def jobs_settings_overrides() -> dict[str, Any]:
    return {"outbox_interval": 0}


async def _notices(world: World) -> list[dict[str, Any]]:
    app = world.client._transport.app  # type: ignore[attr-defined]
    async with app.state.db.sessionmaker() as session:
        rows = await session.scalars(select(OutboxEvent).order_by(OutboxEvent.created_at, OutboxEvent.id))
        return [json.loads(r.payload) | {"topic": r.topic} for r in rows]


async def _apply(world: World, job_id: str, who: str) -> str:
    resp = await world.client.post(f"/api/v1/jobs/{job_id}/applications", json={"message": "五年经验"},
                                   headers=world.headers[who])
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


async def test_first_sight_by_the_poster_notifies_each_applicant_once(world: World) -> None:
    job = await world.published(title="地铁车站值班员")
    await _apply(world, job["id"], "member")
    await _apply(world, job["id"], "member2")
    url = f"/api/v1/jobs/{job['id']}/applications"
    assert (await world.client.get(url, headers=world.headers["staff_gz"])).status_code == 200
    assert await _notices(world) == []  # staff looking is not the employer seeing

    first = await world.client.get(url, params={"limit": 1}, headers=world.headers["employer"])
    assert first.status_code == 200 and len(first.json()["items"]) == 1
    notices = await _notices(world)
    assert [(n["topic"], n["kind"], n["account_id"]) for n in notices] == [
        ("notification", "job_application_seen", world.ids["member2"])]  # newest first: member2 was shown
    assert notices[0]["body"] == "招聘方已查看您对“地铁车站值班员”的申请。"
    assert notices[0]["link"] == f"/jobs/{job['id']}"

    for _ in range(2):
        assert (await world.client.get(url, headers=world.headers["employer"])).status_code == 200
    notices = await _notices(world)
    assert sorted(n["account_id"] for n in notices) == sorted([world.ids["member"], world.ids["member2"]])


async def test_concurrent_listings_announce_once(world: World) -> None:
    job = await world.published()
    await _apply(world, job["id"], "member")
    url = f"/api/v1/jobs/{job['id']}/applications"
    answers = await asyncio.gather(*(world.client.get(url, headers=world.headers["employer"]) for _ in range(4)))
    assert [a.status_code for a in answers] == [200] * 4
    assert [n["account_id"] for n in await _notices(world)] == [world.ids["member"]]
