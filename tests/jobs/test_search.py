from __future__ import annotations

import asyncio

from tests.jobs.conftest import World


async def corpus(world: World) -> dict[str, str]:
    """Jobs whose texts contain, or only seem to contain, the everyday two-character words."""
    specs = {
        "electrician": ("高级电工", "负责配电房日常维护，持电工证优先。"),
        "plumber": ("水电工", "小区水电维修，经验两年以上。"),
        "power_eng": ("发电工程师", "电厂发电工程设备调试，本科以上学历。"),  # 电工 only across a word boundary
        "driver": ("货车司机", "持 B2 驾照，跑广州到佛山线路。"),
        "guard": ("小区保安", "24 小时轮班，包住。"),
        "guard_driver": ("保安兼司机", "白班，接送领导，兼做门岗保安。"),
        "nanny": ("金牌月嫂", "照顾产妇和新生儿，育婴师证优先。"),
        "cleaner": ("保洁员", "写字楼保洁，早八晚五。"),
        "guard_dog": ("宠物美容师", "给狗狗洗澡修毛，需要爱心（安保无关）。"),  # 保 and 安 apart
    }
    ids = {}
    for key, (title, description) in specs.items():
        ids[key] = (await world.published(title=title, description=description))["id"]
    return ids


class TestTwoCharacterWords:
    async def test_each_word_finds_exactly_its_jobs(self, world: World) -> None:
        ids = await corpus(world)

        async def find(q: str) -> set[str]:
            return set(await world.found(q=q, limit=100))

        assert await find("电工") == {ids["electrician"], ids["plumber"]}
        assert await find("司机") == {ids["driver"], ids["guard_driver"]}
        assert await find("保安") == {ids["guard"], ids["guard_driver"]}
        assert await find("月嫂") == {ids["nanny"]}
        assert await find("保洁") == {ids["cleaner"]}
        assert await find("焊工") == set()

    async def test_several_words_are_all_required(self, world: World) -> None:
        ids = await corpus(world)
        assert await world.found(q="保安 司机") == [ids["guard_driver"]]
        assert await world.found(q="保安司机") == [ids["guard_driver"]]
        assert await world.found(q="电工 司机") == []

    async def test_words_in_description_count(self, world: World) -> None:
        ids = await corpus(world)
        assert set(await world.found(q="育婴师")) == {ids["nanny"]}
        assert set(await world.found(q="驾照")) == {ids["driver"]}

    async def test_punctuation_or_single_characters_find_nothing(self, world: World) -> None:
        await corpus(world)
        for q in ["！！！", "...", "？", "'", '"', "*", "-", "()", "电", "a"]:
            resp = await world.search(q=q)
            assert resp.status_code == 200 and resp.json() == {"items": [], "next_cursor": None}, q

    async def test_query_syntax_is_just_text(self, world: World) -> None:
        ids = await corpus(world)
        electric = {ids["electrician"], ids["plumber"]}
        for q in ["' OR 1=1 --", "电工' OR '1'='1", "电工\"; DROP TABLE jobs; --", "NEAR(电工 司机)", "电工 OR 司机",
                  "电工 NOT 司机", "search_text:电工", "电工*", "{city}:广州", "^电工", "电工 & 司机 | 保安", "!电工",
                  "电工:*", "电工 AND", "(电工"]:
            resp = await world.search(q=q)
            assert resp.status_code == 200, (q, resp.text)
            found = {j["id"] for j in resp.json()["items"]}
            # Operators are words or separators, never syntax: results only ever narrow.
            if "电工" in q:
                assert found <= electric, q
        assert {j["id"] for j in (await world.search(q="电工 NOT 司机")).json()["items"]} == set()
        assert {j["id"] for j in (await world.search(q="电工' OR '1'='1")).json()["items"]} == set()
        assert {j["id"] for j in (await world.search(q="电工*")).json()["items"]} == electric
        # The table is still there.
        assert set(await world.found(q="电工")) == electric

    async def test_latin_words_case_insensitive(self, world: World) -> None:
        job = await world.published(title="Java 开发工程师", description="熟悉 SQL 和 Linux")
        assert await world.found(q="java") == [job["id"]]
        assert await world.found(q="LINUX sql") == [job["id"]]

    async def test_overlong_query_refused(self, world: World) -> None:
        resp = await world.search(q="电工" * 51)
        assert resp.status_code == 422


class TestFilters:
    async def test_city_category_salary(self, world: World) -> None:
        gz = await world.published(title="电工甲", salary_min=5000, salary_max=7000)
        gz_hi = await world.published(title="电工乙", salary_min=9000, salary_max=12000, category="电力")
        sz = await world.published("employer_b", title="电工丙", city="深圳", salary_min=8000, salary_max=9000)
        assert await world.found(q="电工", city="广州") == [gz_hi["id"], gz["id"]]
        assert await world.found(q="电工", city="广州市") == [gz_hi["id"], gz["id"]]
        assert await world.found(q="电工", city="深圳") == [sz["id"]]
        assert await world.found(city="深圳") == [sz["id"]]
        assert await world.found(q="电工", category="电力") == [gz_hi["id"]]
        assert await world.found(q="电工", salary_min=8000) == [sz["id"], gz_hi["id"]]
        assert await world.found(salary_min=8500, city="广州") == [gz_hi["id"]]
        assert await world.found(q="电工", city="北京") == []

    async def test_bad_filters(self, world: World) -> None:
        assert (await world.search(salary_min=-1)).status_code == 422
        assert (await world.search(salary_min="lots")).status_code == 422
        assert (await world.search(limit=0)).status_code == 422
        assert (await world.search(limit=101)).status_code == 422
        resp = await world.search(cursor="not-a-cursor!")
        assert resp.status_code == 422 and resp.json()["code"] == "invalid_cursor"
        resp = await world.search(cursor="WyJ4Il0")  # ["x"]
        assert resp.status_code == 422 and resp.json()["code"] == "invalid_cursor"

    async def test_search_needs_a_token(self, world: World) -> None:
        resp = await world.client.get("/api/v1/jobs")
        assert resp.status_code == 401


class TestOrderAndPagination:
    async def test_newest_published_first_and_stable_cursor(self, world: World) -> None:
        ids = [(await world.published(title=f"司机{i}号")) ["id"] for i in range(5)]
        first = (await world.search(q="司机", limit=2)).json()
        assert [j["id"] for j in first["items"]] == [ids[4], ids[3]]
        # New postings appear at the top; they do not shift the pages after the cursor.
        newer = await world.published(title="司机新来的")
        second = (await world.search(q="司机", limit=2, cursor=first["next_cursor"])).json()
        assert [j["id"] for j in second["items"]] == [ids[2], ids[1]]
        third = (await world.search(q="司机", limit=2, cursor=second["next_cursor"])).json()
        assert [j["id"] for j in third["items"]] == [ids[0]] and third["next_cursor"] is None
        assert (await world.found(q="司机", limit=1)) == [newer["id"]]

    async def test_approval_order_not_posting_order(self, world: World) -> None:
        a = await world.post(title="保安甲")
        b = await world.post(title="保安乙")
        await world.review(b["id"])
        await asyncio.sleep(0.01)
        await world.review(a["id"])
        assert await world.found(q="保安") == [a["id"], b["id"]]


class TestVisibility:
    """An unreviewed, rejected, expired or closed job is never returned by search or to others."""

    async def test_only_open_jobs_are_public(self, world: World) -> None:
        open_job = await world.published(title="电工开放")
        pending = await world.post(title="电工待审")
        rejected = await world.post(title="电工驳回")
        await world.review(rejected["id"], decision="reject", reason="不符合要求")
        expired = await world.published(title="电工过期")
        await world.expire(expired["id"])
        closed = await world.published(title="电工已招满")
        await world.client.post(f"/api/v1/jobs/{closed['id']}/close", json={"reason": "filled"},
                                headers=world.headers["employer"])
        hidden = [pending, rejected, expired, closed]

        for who in ("member", "employer_b", "staff_sz", "staff_gz", "employer", "admin"):
            assert await world.found(who, q="电工") == [open_job["id"]], who
            assert await world.found(who) == [open_job["id"]], who
            assert await world.found(who, city="广州") == [open_job["id"]], who

        for who in ("member", "employer_b", "staff_sz"):
            for job in hidden:
                resp = await world.client.get(f"/api/v1/jobs/{job['id']}", headers=world.headers[who])
                assert resp.status_code == 404, (who, job["title"])
            resp = await world.client.get(f"/api/v1/jobs/{open_job['id']}", headers=world.headers[who])
            assert resp.status_code == 200
            assert resp.json()["contact_phone"] is None and resp.json()["contact_phone_masked"] == "139****5678"

        statuses = {}
        for who in ("employer", "staff_gz", "staff_province", "admin"):
            for job in hidden:
                resp = await world.client.get(f"/api/v1/jobs/{job['id']}", headers=world.headers[who])
                assert resp.status_code == 200, (who, job["title"])
                statuses[job["title"]] = resp.json()["status"]
        assert statuses == {"电工待审": "pending_review", "电工驳回": "rejected", "电工过期": "expired",
                            "电工已招满": "closed"}

    async def test_expiry_is_enforced_by_the_query(self, world: World) -> None:
        job = await world.published()
        assert await world.found(q="电工") == [job["id"]]
        await world.expire(job["id"])
        assert await world.found(q="电工") == []
        assert await world.found() == []

    async def test_unknown_and_malformed_ids(self, world: World) -> None:
        assert (await world.client.get("/api/v1/jobs/" + "0" * 32, headers=world.headers["member"])).status_code == 404
        assert (await world.client.get("/api/v1/jobs/" + "x" * 65, headers=world.headers["member"])).status_code == 422
        resp = await world.client.get("/api/v1/jobs/%27%20OR%201=1", headers=world.headers["member"])
        assert resp.status_code == 404


class TestHostileInput:
    async def test_nul_and_control_characters_never_500(self, world: World) -> None:
        job = await world.published()
        for params in ({"q": "电工\x00司机"}, {"city": "广州\x00"}, {"category": "\x00"}, {"q": "\x00"}):
            resp = await world.search(**params)
            assert resp.status_code == 200, (params, resp.text)
        for field in ("title", "description", "city", "employer_name", "contact_phone"):
            resp = await world.client.post("/api/v1/jobs", json={**_body(), field: "电工\x00电工"},
                                           headers=world.headers["employer"])
            assert resp.status_code == 422, (field, resp.text)
        resp = await world.client.post(f"/api/v1/jobs/{job['id']}/applications", json={"message": "你好\x00"},
                                       headers=world.headers["member"])
        assert resp.status_code == 422
        assert (await world.client.get("/api/v1/jobs/abc%00def", headers=world.headers["member"])).status_code == 404

    async def test_forged_cursors(self, world: World) -> None:
        from services.common.pagination import encode_cursor

        await world.published()
        for key in (["2026-01-01T00:00:00", "abc"], ["2026-01-01T00:00:00+00:00", "a\x00b"],
                    ["2026-01-01T00:00:00+00:00", 5], [1, 2, 3], ["nonsense", "abc"]):
            resp = await world.search(cursor=encode_cursor(key))
            assert resp.status_code == 422 and resp.json()["code"] == "invalid_cursor", key


def _body() -> dict:
    from tests.jobs.conftest import job_body

    return job_body()
