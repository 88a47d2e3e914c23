from __future__ import annotations

import asyncio
from typing import Any

import httpx

from services.common.internal_auth import ServiceSigner
from tests.apps import TEST_INTERNAL_SECRET
from tests.jobs.conftest import World


async def apply(world: World, job_id: str, who: str = "member", **body: Any) -> httpx.Response:
    return await world.client.post(f"/api/v1/jobs/{job_id}/applications", json=body or {"message": "我有电工证"},
                                   headers=world.headers[who])


class TestApply:
    async def test_apply_once(self, world: World) -> None:
        job = await world.published()
        resp = await apply(world, job["id"], name="王小明", message="三年经验")
        assert resp.status_code == 201, resp.text
        body = resp.json()
        assert body["applicant_phone_masked"] == "138****0001" and body["applicant_name_masked"] == "王**"
        again = await apply(world, job["id"])
        assert again.status_code == 409 and again.json()["code"] == "already_applied"

    async def test_concurrent_double_apply_is_one(self, world: World) -> None:
        job = await world.published()
        results = await asyncio.gather(*(apply(world, job["id"]) for _ in range(4)))
        codes = sorted(r.status_code for r in results)
        assert codes == [201, 409, 409, 409]
        listed = await world.client.get(f"/api/v1/jobs/{job['id']}/applications", headers=world.headers["staff_gz"])
        assert len(listed.json()["items"]) == 1

    async def test_phone_required(self, world: World) -> None:
        job = await world.published()
        resp = await apply(world, job["id"], "no_phone")
        assert resp.status_code == 409 and resp.json()["code"] == "phone_required"

    async def test_closed_or_expired_job_not_open(self, world: World) -> None:
        closed = await world.published(title="已招满")
        await world.client.post(f"/api/v1/jobs/{closed['id']}/close", json={"reason": "filled"},
                                headers=world.headers["employer"])
        expired = await world.published(title="过期了")
        await world.expire(expired["id"])
        for job in (closed, expired):
            resp = await apply(world, job["id"])
            assert resp.status_code == 409 and resp.json()["code"] == "job_not_open"

    async def test_never_published_job_does_not_exist(self, world: World) -> None:
        pending = await world.post()
        assert (await apply(world, pending["id"])).status_code == 404
        assert (await apply(world, "0" * 32)).status_code == 404
        # Its managers are told why instead.
        resp = await apply(world, pending["id"], "staff_gz")
        assert resp.status_code == 409 and resp.json()["code"] == "job_not_open"

    async def test_poster_cannot_apply_to_own_job(self, world: World) -> None:
        job = await world.published()
        assert (await apply(world, job["id"], "employer")).status_code == 403

    async def test_message_length(self, world: World) -> None:
        job = await world.published()
        assert (await apply(world, job["id"], message="字" * 501)).status_code == 422


class TestApplicantsView:
    async def test_poster_and_staff_see_masked_applicants_poster_marks_seen(self, world: World) -> None:
        job = await world.published()
        await apply(world, job["id"], "member", name="欧阳娜娜", message="A")
        await apply(world, job["id"], "member2", message="B")
        url = f"/api/v1/jobs/{job['id']}/applications"

        staff_view = (await world.client.get(url, headers=world.headers["staff_gz"])).json()["items"]
        assert [a["message"] for a in staff_view] == ["B", "A"]
        assert all(a["seen_at"] is None for a in staff_view)  # staff looking is not the employer seeing
        assert staff_view[1]["applicant_name_masked"] == "欧阳**"
        assert {a["applicant_phone_masked"] for a in staff_view} == {"138****0001", "138****0002"}
        assert "applicant_id" not in staff_view[0]

        first = (await world.client.get(url, params={"limit": 1}, headers=world.headers["employer"])).json()
        assert first["items"][0]["seen_at"] is not None
        # Only what was shown is marked seen.
        after = (await world.client.get(url, headers=world.headers["staff_gz"])).json()["items"]
        assert after[0]["seen_at"] is not None and after[1]["seen_at"] is None
        mine = (await world.client.get("/api/v1/jobs/applications/mine", headers=world.headers["member2"])).json()
        assert mine["items"][0]["seen_at"] is not None

    async def test_others_cannot_list_applicants(self, world: World) -> None:
        job = await world.published()
        await apply(world, job["id"])
        url = f"/api/v1/jobs/{job['id']}/applications"
        for who in ("member", "member2", "employer_b", "staff_sz"):
            resp = await world.client.get(url, headers=world.headers[who])
            assert resp.status_code == 403, who
        pending = await world.post(title="未发布")
        resp = await world.client.get(f"/api/v1/jobs/{pending['id']}/applications", headers=world.headers["member"])
        assert resp.status_code == 404

    async def test_pagination(self, world: World) -> None:
        job = await world.published()
        for i in range(5):
            world.account(f"applicant{i}", phone_masked=f"137****000{i}")
            await apply(world, job["id"], f"applicant{i}", message=str(i))
        url = f"/api/v1/jobs/{job['id']}/applications"
        messages, cursor = [], None
        while True:
            params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
            body = (await world.client.get(url, params=params, headers=world.headers["staff_gz"])).json()
            messages += [a["message"] for a in body["items"]]
            if not (cursor := body["next_cursor"]):
                break
        assert messages == ["4", "3", "2", "1", "0"]


class TestMyApplications:
    async def test_shows_job_status_and_contact_while_open(self, world: World) -> None:
        open_job = await world.published(title="司机")
        closed_job = await world.published(title="保安")
        await apply(world, open_job["id"])
        await apply(world, closed_job["id"])
        await world.client.post(f"/api/v1/jobs/{closed_job['id']}/close", json={"reason": "filled"},
                                headers=world.headers["employer"])
        resp = await world.client.get("/api/v1/jobs/applications/mine", headers=world.headers["member"])
        assert resp.status_code == 200
        items = {i["job_title"]: i for i in resp.json()["items"]}
        assert items["司机"]["job_status"] == "published" and items["司机"]["contact_phone"] == "13912345678"
        assert items["保安"]["job_status"] == "closed" and items["保安"]["contact_phone"] is None
        other = await world.client.get("/api/v1/jobs/applications/mine", headers=world.headers["member2"])
        assert other.json()["items"] == []


def identity_headers(caller: str = "identity") -> dict[str, str]:
    return {"x-service-token": ServiceSigner(TEST_INTERNAL_SECRET, caller).token_for("jobs")}


class TestAccountClosed:
    async def test_closed_applicant_disappears_from_posters_view(self, world: World) -> None:
        job = await world.published()
        await apply(world, job["id"], "member")
        await apply(world, job["id"], "member2")
        event = {"id": "evt-1", "topic": "account.closed", "payload": {"account_id": world.ids["member"]}}
        for _ in range(2):  # delivered at least once: the repeat is harmless
            resp = await world.client.post("/internal/events", json=event, headers=identity_headers())
            assert resp.status_code == 200 and resp.json() == {"status": "ok"}
        listed = (await world.client.get(f"/api/v1/jobs/{job['id']}/applications",
                                         headers=world.headers["employer"])).json()["items"]
        assert [a["applicant_phone_masked"] for a in listed] == ["138****0002"]

    async def test_closed_poster_jobs_are_withdrawn_and_number_erased(self, world: World) -> None:
        job = await world.published()
        event = {"id": "evt-2", "topic": "account.closed", "payload": {"account_id": world.ids["employer"]}}
        assert (await world.client.post("/internal/events", json=event, headers=identity_headers())).status_code == 200
        assert await world.found() == []
        resp = await world.client.get(f"/api/v1/jobs/{job['id']}", headers=world.headers["staff_gz"])
        assert resp.json()["status"] == "closed" and resp.json()["contact_phone_masked"] is None

    async def test_unknown_topic_ignored(self, world: World) -> None:
        resp = await world.client.post("/internal/events", json={"id": "e", "topic": "member.moved", "payload": {}},
                                       headers=identity_headers())
        assert resp.status_code == 200 and resp.json() == {"status": "ignored"}

    async def test_only_identity_may_send(self, world: World) -> None:
        event = {"id": "evt-3", "topic": "account.closed", "payload": {"account_id": world.ids["member"]}}
        assert (await world.client.post("/internal/events", json=event)).status_code == 401
        resp = await world.client.post("/internal/events", json=event, headers=identity_headers("benefits"))
        assert resp.status_code == 401
        resp = await world.client.post("/internal/events", json=event, headers=world.headers["admin"])
        assert resp.status_code == 401

    async def test_malformed_event(self, world: World) -> None:
        resp = await world.client.post("/internal/events", json={"id": "e4", "topic": "account.closed", "payload": {}},
                                       headers=identity_headers())
        assert resp.status_code == 422
