from __future__ import annotations

from typing import Any

import pytest

from tests.jobs.conftest import VALID_CREDIT_CODE, World, future, job_body


class TestPosting:
    async def test_employer_posts_into_own_org_pending_review(self, world: World) -> None:
        job = await world.post()
        assert job["status"] == "pending_review"
        assert job["org_id"] == world.orgs["workplace_a"]
        assert job["title"] == "高级电工" and job["city"] == "广州"
        assert job["contact_phone_masked"] == "139****5678"
        assert job["contact_phone"] == "13912345678"  # the poster sees their own number
        assert job["employer_verified"] is False and job["can_manage"] is True

    async def test_city_suffix_and_spaces_normalised(self, world: World) -> None:
        job = await world.post(city=" 广州市 ", title="  叉车   司机 ")
        assert job["city"] == "广州" and job["title"] == "叉车 司机"

    async def test_valid_credit_code_marks_verified(self, world: World) -> None:
        job = await world.post(employer_credit_code=VALID_CREDIT_CODE.lower())
        assert job["employer_verified"] is True

    async def test_bad_credit_code(self, world: World) -> None:
        for code in ["91350100M000100Y44", "91350100M000100Y4", "91350100M00010OY43", "ABCDEFGHJKLMNPQRTU"]:
            resp = await world.client.post("/api/v1/jobs", json=job_body(employer_credit_code=code),
                                           headers=world.headers["employer"])
            assert resp.status_code == 422, code
            assert resp.json()["code"] in ("invalid_credit_code", "validation_error")

    async def test_validation(self, world: World) -> None:
        cases: list[tuple[dict[str, Any], str | None]] = [
            ({"title": "电"}, "title"),
            ({"title": "工" * 61}, "title"),
            ({"title": "！？"}, "title"),
            ({"salary_min": 9000, "salary_max": 6000}, None),
            ({"salary_min": 0}, "salary_min"),
            ({"salary_max": -5}, "salary_max"),
            ({"expires_at": future(-1)}, "expires_at"),
            ({"expires_at": future(181)}, "expires_at"),
            ({"expires_at": "2030-01-01T00:00:00"}, "expires_at"),
            ({"city": ""}, "city"),
            ({"category": "  "}, "category"),
            ({"city": None}, "city"),
            ({"unknown": 1}, "unknown"),
        ]
        for overrides, loc in cases:
            resp = await world.client.post("/api/v1/jobs", json=job_body(**overrides),
                                           headers=world.headers["employer"])
            assert resp.status_code == 422, (overrides, resp.text)
            body = resp.json()
            assert body["code"] == "validation_error"
            if loc:
                assert any(loc in e["loc"] for e in body["errors"]), body
        # Nothing was written by any of them.
        assert (await world.client.get("/api/v1/jobs/mine", headers=world.headers["employer"])).json()["items"] == []

    async def test_missing_required_fields(self, world: World) -> None:
        for name in ("title", "city", "category", "contact_phone", "expires_at", "salary_min"):
            body = job_body()
            del body[name]
            resp = await world.client.post("/api/v1/jobs", json=body, headers=world.headers["employer"])
            assert resp.status_code == 422 and resp.json()["code"] == "validation_error", name

    async def test_contact_phone_must_be_mainland_mobile(self, world: World) -> None:
        for phone in ["12345678901", "1381234567", "010-12345678", "2381234567a"]:
            resp = await world.client.post("/api/v1/jobs", json=job_body(contact_phone=phone),
                                           headers=world.headers["employer"])
            assert resp.status_code == 422 and resp.json()["code"] == "invalid_phone", phone

    async def test_phone_with_country_code_accepted(self, world: World) -> None:
        job = await world.post(contact_phone="+86 139-1234-5678")
        assert job["contact_phone"] == "13912345678"

    async def test_180_days_is_allowed(self, world: World) -> None:
        job = await world.post(expires_at=future(179.9))
        assert job["status"] == "pending_review"

    async def test_members_cannot_post(self, world: World) -> None:
        resp = await world.client.post("/api/v1/jobs", json=job_body(), headers=world.headers["member"])
        assert resp.status_code == 403 and resp.json()["code"] == "forbidden"

    async def test_no_token(self, world: World) -> None:
        resp = await world.client.post("/api/v1/jobs", json=job_body())
        assert resp.status_code == 401 and resp.json()["code"] == "unauthenticated"

    async def test_employer_without_org_refused(self, world: World) -> None:
        headers = world.user(roles=("employer",), org_id=None)
        resp = await world.client.post("/api/v1/jobs", json=job_body(), headers=headers)
        assert resp.status_code == 403 and resp.json()["code"] == "org_required"

    async def test_admin_needs_an_explicit_org(self, world: World) -> None:
        resp = await world.client.post("/api/v1/jobs", json=job_body(), headers=world.admin)
        assert resp.status_code == 403 and resp.json()["code"] == "org_required"
        resp = await world.client.post("/api/v1/jobs", json=job_body(org_id=world.orgs["workplace_b"]),
                                       headers=world.admin)
        assert resp.status_code == 201 and resp.json()["org_id"] == world.orgs["workplace_b"]

    async def test_employer_cannot_post_into_another_org(self, world: World) -> None:
        resp = await world.client.post("/api/v1/jobs", json=job_body(org_id=world.orgs["workplace_b"]),
                                       headers=world.headers["employer"])
        assert resp.status_code == 422 and resp.json()["code"] == "invalid_org"

    async def test_staff_may_post_into_own_subtree_only(self, world: World) -> None:
        ok = await world.client.post("/api/v1/jobs", json=job_body(org_id=world.orgs["workplace_a"]),
                                     headers=world.headers["staff_gz"])
        assert ok.status_code == 201 and ok.json()["org_id"] == world.orgs["workplace_a"]
        bad = await world.client.post("/api/v1/jobs", json=job_body(org_id=world.orgs["workplace_b"], title="保安"),
                                      headers=world.headers["staff_gz"])
        assert bad.status_code == 422 and bad.json()["code"] == "invalid_org"

    async def test_unknown_org(self, world: World) -> None:
        headers = world.user(roles=("employer",), org_id="0" * 32)
        resp = await world.client.post("/api/v1/jobs", json=job_body(), headers=headers)
        assert resp.status_code == 422 and resp.json()["code"] == "invalid_org"

    async def test_oversized_body(self, world: World) -> None:
        resp = await world.client.post("/api/v1/jobs", json=job_body(description="长" * 600_000),
                                       headers=world.headers["employer"])
        assert resp.status_code == 413

    async def test_description_too_long(self, world: World) -> None:
        resp = await world.client.post("/api/v1/jobs", json=job_body(description="长" * 5001),
                                       headers=world.headers["employer"])
        assert resp.status_code == 422


class TestAntiSpam:
    async def test_same_title_same_city_while_open_is_duplicate(self, world: World) -> None:
        first = await world.post()
        resp = await world.client.post("/api/v1/jobs", json=job_body(city="广州市"), headers=world.headers["employer"])
        assert resp.status_code == 409 and resp.json()["code"] == "duplicate_posting"
        # Another city, another title or another poster is fine.
        await world.post(city="佛山")
        await world.post(title="高级电工（夜班）")
        await world.post("staff_gz", org_id=world.orgs["workplace_a"])
        # Once closed, the same posting may be made again.
        resp = await world.client.post(f"/api/v1/jobs/{first['id']}/close", json={"reason": "filled"},
                                       headers=world.headers["employer"])
        assert resp.status_code == 200
        await world.post()

    async def test_duplicate_also_while_published(self, world: World) -> None:
        await world.published()
        resp = await world.client.post("/api/v1/jobs", json=job_body(), headers=world.headers["employer"])
        assert resp.json()["code"] == "duplicate_posting"

    async def test_expired_posting_does_not_block(self, world: World) -> None:
        job = await world.published()
        await world.expire(job["id"])
        await world.post()

    async def test_edit_into_a_duplicate_is_refused(self, world: World) -> None:
        await world.post()
        other = await world.post(title="电工学徒")
        resp = await world.client.patch(f"/api/v1/jobs/{other['id']}", json={"title": "高级电工"},
                                        headers=world.headers["employer"])
        assert resp.status_code == 409 and resp.json()["code"] == "duplicate_posting"


class TestRateLimit:
    @pytest.fixture
    def jobs_settings_overrides(self) -> dict[str, Any]:
        return {"post_rate_limit": 3}

    async def test_posting_is_rate_limited_per_account(self, world: World) -> None:
        for i in range(3):
            await world.post(title=f"保安员{i}号岗")
        resp = await world.client.post("/api/v1/jobs", json=job_body(title="保安员9号岗"),
                                       headers=world.headers["employer"])
        assert resp.status_code == 429 and resp.json()["code"] == "rate_limited"
        assert int(resp.headers["retry-after"]) >= 1
        # Another account has its own budget.
        await world.post("employer_b", title="保安员9号岗", city="深圳")


class TestEdit:
    async def test_edit_of_published_job_goes_back_to_review(self, world: World) -> None:
        job = await world.published()
        assert await world.found(q="电工") == [job["id"]]
        resp = await world.client.patch(f"/api/v1/jobs/{job['id']}", json={"title": "资深电工", "salary_max": 12000},
                                        headers=world.headers["employer"])
        assert resp.status_code == 200, resp.text
        assert resp.json()["status"] == "pending_review" and resp.json()["salary_max"] == 12000
        assert await world.found(q="电工") == []
        assert (await world.client.get(f"/api/v1/jobs/{job['id']}", headers=world.headers["member"])).status_code == 404
        assert (await world.review(job["id"])).json()["status"] == "published"
        assert await world.found(q="资深") == [job["id"]]

    async def test_edit_reindexes_search(self, world: World) -> None:
        job = await world.post()
        await world.client.patch(f"/api/v1/jobs/{job['id']}", json={"title": "货车司机", "description": "跑长途"},
                                 headers=world.headers["employer"])
        await world.review(job["id"])
        assert await world.found(q="司机") == [job["id"]]
        assert await world.found(q="电工") == []

    async def test_only_the_poster_edits(self, world: World) -> None:
        job = await world.published()
        resp = await world.client.patch(f"/api/v1/jobs/{job['id']}", json={"title": "别人改的"},
                                        headers=world.headers["staff_gz"])
        assert resp.status_code == 403
        resp = await world.client.patch(f"/api/v1/jobs/{job['id']}", json={"title": "别人改的"},
                                        headers=world.headers["employer_b"])
        assert resp.status_code == 403  # published: it exists for everyone, editing is forbidden
        pending = await world.post(title="未审核的")
        resp = await world.client.patch(f"/api/v1/jobs/{pending['id']}", json={"title": "别人改的"},
                                        headers=world.headers["employer_b"])
        assert resp.status_code == 404

    async def test_edit_validation(self, world: World) -> None:
        job = await world.post()
        url = f"/api/v1/jobs/{job['id']}"
        h = world.headers["employer"]
        assert (await world.client.patch(url, json={"salary_min": 10000}, headers=h)).status_code == 422
        assert (await world.client.patch(url, json={"expires_at": future(200)}, headers=h)).status_code == 422
        resp = await world.client.patch(url, json={"contact_phone": "123"}, headers=h)
        assert resp.json()["code"] == "invalid_phone"
        resp = await world.client.patch(url, json={"employer_credit_code": VALID_CREDIT_CODE}, headers=h)
        assert resp.json()["employer_verified"] is True

    async def test_closed_job_cannot_be_edited(self, world: World) -> None:
        job = await world.published()
        await world.client.post(f"/api/v1/jobs/{job['id']}/close", json={"reason": "withdrawn"},
                                headers=world.headers["employer"])
        resp = await world.client.patch(f"/api/v1/jobs/{job['id']}", json={"title": "再开"},
                                        headers=world.headers["employer"])
        assert resp.status_code == 409 and resp.json()["code"] == "job_not_open"


class TestClose:
    async def test_poster_closes_filled(self, world: World) -> None:
        job = await world.published()
        resp = await world.client.post(f"/api/v1/jobs/{job['id']}/close", json={"reason": "filled"},
                                       headers=world.headers["employer"])
        assert resp.status_code == 200
        assert resp.json()["status"] == "closed" and resp.json()["close_reason"] == "filled"
        assert await world.found() == []
        again = await world.client.post(f"/api/v1/jobs/{job['id']}/close", json={"reason": "filled"},
                                        headers=world.headers["employer"])
        assert again.status_code == 409 and again.json()["code"] == "job_not_open"

    async def test_staff_in_scope_closes_others_cannot(self, world: World) -> None:
        job = await world.published()
        url = f"/api/v1/jobs/{job['id']}/close"
        assert (await world.client.post(url, json={"reason": "withdrawn"},
                                        headers=world.headers["staff_sz"])).status_code == 403
        assert (await world.client.post(url, json={"reason": "withdrawn"},
                                        headers=world.headers["member"])).status_code == 403
        assert (await world.client.post(url, json={"reason": "whatever"},
                                        headers=world.headers["staff_gz"])).status_code == 422
        resp = await world.client.post(url, json={"reason": "withdrawn"}, headers=world.headers["staff_province"])
        assert resp.status_code == 200 and resp.json()["close_reason"] == "withdrawn"

    async def test_unknown_job(self, world: World) -> None:
        resp = await world.client.post("/api/v1/jobs/" + "f" * 32 + "/close", json={"reason": "filled"},
                                       headers=world.headers["employer"])
        assert resp.status_code == 404 and resp.json()["code"] == "not_found"


class TestMine:
    async def test_poster_lists_own_jobs_in_every_status(self, world: World) -> None:
        a = await world.post(title="一号")
        b = await world.published(title="二号")
        await world.post("employer_b", title="别人的", city="深圳")
        resp = await world.client.get("/api/v1/jobs/mine", headers=world.headers["employer"])
        items = resp.json()["items"]
        assert [j["id"] for j in items] == [b["id"], a["id"]]
        assert {j["status"] for j in items} == {"pending_review", "published"}
