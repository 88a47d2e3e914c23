from __future__ import annotations

from tests.jobs.conftest import World


class TestReviewScope:
    async def test_city_staff_approves_job_of_workplace_below(self, world: World) -> None:
        job = await world.post()
        resp = await world.review(job["id"], "staff_gz", reason="信息完整")
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["status"] == "published" and body["published_at"] is not None

    async def test_ancestor_staff_may_review(self, world: World) -> None:
        job = await world.post()
        assert (await world.review(job["id"], "staff_province")).json()["status"] == "published"

    async def test_staff_of_another_subtree_cannot_see_or_review(self, world: World) -> None:
        job = await world.post()
        resp = await world.review(job["id"], "staff_sz")
        assert resp.status_code == 404 and resp.json()["code"] == "not_found"
        resp = await world.client.get(f"/api/v1/jobs/{job['id']}", headers=world.headers["staff_sz"])
        assert resp.status_code == 404

    async def test_employer_and_member_cannot_review(self, world: World) -> None:
        job = await world.post()
        for who in ("employer", "employer_b", "member"):
            resp = await world.review(job["id"], who)
            assert resp.status_code == 403 and resp.json()["code"] == "forbidden", who

    async def test_staff_cannot_approve_own_posting(self, world: World) -> None:
        job = await world.post("staff_gz", org_id=world.orgs["workplace_a"])
        resp = await world.review(job["id"], "staff_gz")
        assert resp.status_code == 403
        assert (await world.review(job["id"], "staff_gz2")).json()["status"] == "published"

    async def test_admin_reviews_anywhere(self, world: World) -> None:
        job = await world.post("employer_b", city="深圳")
        assert (await world.review(job["id"], "admin")).json()["status"] == "published"

    async def test_reject_needs_reason_and_hides_the_job(self, world: World) -> None:
        job = await world.post()
        resp = await world.review(job["id"], decision="reject")
        assert resp.status_code == 422
        resp = await world.review(job["id"], decision="reject", reason="薪资描述不清")
        assert resp.status_code == 200
        assert resp.json()["status"] == "rejected" and resp.json()["review_reason"] == "薪资描述不清"
        # The poster sees the reason; others do not see the job at all.
        mine = await world.client.get(f"/api/v1/jobs/{job['id']}", headers=world.headers["employer"])
        assert mine.json()["review_reason"] == "薪资描述不清"
        assert (await world.client.get(f"/api/v1/jobs/{job['id']}", headers=world.headers["member"])).status_code == 404
        assert await world.found(q="电工") == []

    async def test_second_review_is_conflict(self, world: World) -> None:
        job = await world.published()
        resp = await world.review(job["id"], decision="reject", reason="晚了")
        assert resp.status_code == 409 and resp.json()["code"] == "job_not_pending"

    async def test_bad_decision(self, world: World) -> None:
        job = await world.post()
        resp = await world.review(job["id"], decision="maybe")
        assert resp.status_code == 422

    async def test_expired_pending_job_cannot_be_approved(self, world: World) -> None:
        job = await world.post()
        await world.expire(job["id"])
        resp = await world.review(job["id"])
        assert resp.status_code == 409 and resp.json()["code"] == "job_not_open"


class TestReviewQueue:
    async def test_queue_is_scoped_to_the_subtree(self, world: World) -> None:
        a = await world.post(title="广州的一")
        b = await world.post(title="广州的二")
        c = await world.post("employer_b", title="深圳的", city="深圳")
        await world.review(a["id"])

        async def queue(who: str) -> list[str]:
            resp = await world.client.get("/api/v1/jobs/pending", headers=world.headers[who])
            assert resp.status_code == 200
            return [j["id"] for j in resp.json()["items"]]

        assert await queue("staff_gz") == [b["id"]]
        assert await queue("staff_sz") == [c["id"]]
        assert await queue("staff_province") == [c["id"], b["id"]]
        assert await queue("admin") == [c["id"], b["id"]]
        resp = await world.client.get("/api/v1/jobs/pending", headers=world.headers["employer"])
        assert resp.status_code == 403

    async def test_queue_pagination(self, world: World) -> None:
        ids = [(await world.post(title=f"岗位{i}号"))["id"] for i in range(5)]
        seen: list[str] = []
        cursor = None
        while True:
            params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
            body = (await world.client.get("/api/v1/jobs/pending", params=params,
                                           headers=world.headers["staff_gz"])).json()
            seen += [j["id"] for j in body["items"]]
            cursor = body["next_cursor"]
            if not cursor:
                break
        assert seen == ids[::-1]
