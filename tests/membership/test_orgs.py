from __future__ import annotations

from tests.membership.conftest import World


class TestCreate:
    async def test_admin_builds_the_tree(self, world: World) -> None:
        o = world.orgs
        resp = await world.client.get(f"/api/v1/orgs/{o['guangzhou']}", headers=world.user())
        assert resp.status_code == 200
        assert resp.json() == {"id": o["guangzhou"], "name": "广州市总工会", "parent_id": o["guangdong"],
                               "path": f"/{o['national']}/{o['guangdong']}/{o['guangzhou']}/", "depth": 2}

    async def test_staff_create_below_their_own_org(self, world: World) -> None:
        org_id = await world.org("gz_district", "天河区总工会", "guangzhou", headers=world.staff["guangzhou"])
        assert world.paths["gz_district"] == world.paths["guangzhou"] + org_id + "/"
        # ... and deeper, under a descendant.
        await world.org("gz_tianhe_ws", "天河软件园工会", "gz_district", headers=world.staff["guangzhou"])

    async def test_staff_cannot_create_elsewhere(self, world: World) -> None:
        for parent in ("shenzhen", "sz_port", "guangdong", "national"):
            resp = await world.client.post("/api/v1/orgs", json={"name": "越权工会", "parent_id": world.orgs[parent]},
                                           headers=world.staff["guangzhou"])
            assert resp.status_code == 403 and resp.json()["code"] == "forbidden", parent
        resp = await world.client.post("/api/v1/orgs", json={"name": "新根", "parent_id": None},
                                       headers=world.staff["guangzhou"])
        assert resp.status_code == 403

    async def test_users_cannot_create(self, world: World) -> None:
        resp = await world.client.post("/api/v1/orgs", json={"name": "某工会", "parent_id": world.orgs["gz_metro"]},
                                       headers=world.user())
        assert resp.status_code == 403
        resp = await world.client.post("/api/v1/orgs", json={"name": "某工会", "parent_id": None})
        assert resp.status_code == 401 and resp.json()["code"] == "unauthenticated"

    async def test_unknown_parent_and_bad_names(self, world: World) -> None:
        resp = await world.client.post("/api/v1/orgs", json={"name": "某工会", "parent_id": "nope"},
                                       headers=world.admin)
        assert resp.status_code == 422 and resp.json()["code"] == "invalid_org"
        for name in ("", "   ", "x" * 101):
            resp = await world.client.post("/api/v1/orgs", json={"name": name, "parent_id": None}, headers=world.admin)
            assert resp.status_code == 422, name

    async def test_sibling_names_are_unique(self, world: World) -> None:
        body = {"name": "广州地铁集团工会", "parent_id": world.orgs["guangzhou"]}
        resp = await world.client.post("/api/v1/orgs", json=body, headers=world.admin)
        assert resp.status_code == 409 and resp.json()["code"] == "org_name_taken"


class TestList:
    async def test_roots_and_children(self, world: World) -> None:
        roots = (await world.client.get("/api/v1/orgs", headers=world.user())).json()
        assert [o["id"] for o in roots["items"]] == [world.orgs["national"]] and roots["next_cursor"] is None
        resp = await world.client.get("/api/v1/orgs", params={"parent_id": world.orgs["guangzhou"]},
                                      headers=world.user())
        names = {o["name"] for o in resp.json()["items"]}
        assert names == {"广州地铁集团工会", "广州白云国际机场工会"}

    async def test_pages(self, world: World) -> None:
        for i in range(5):
            await world.org(f"extra{i}", f"第{i}工会", "gz_metro")
        seen: list[str] = []
        cursor = None
        while True:
            params = {"parent_id": world.orgs["gz_metro"], "limit": 2, **({"cursor": cursor} if cursor else {})}
            page = (await world.client.get("/api/v1/orgs", params=params, headers=world.user())).json()
            seen += [o["id"] for o in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert seen == [world.orgs[f"extra{i}"] for i in range(5)]

    async def test_unknown_org_is_404(self, world: World) -> None:
        resp = await world.client.get("/api/v1/orgs/nope", headers=world.user())
        assert resp.status_code == 404 and resp.json()["code"] == "not_found"


async def test_nul_characters_are_bad_input_not_a_500(world: World) -> None:
    resp = await world.client.post("/api/v1/orgs", json={"name": "a\u0000b", "parent_id": world.orgs["national"]},
                                   headers=world.admin)
    assert resp.status_code in (201, 422)  # SQLite stores NUL, PostgreSQL refuses it
    for path in ("/api/v1/orgs/a%00b", "/api/v1/membership/applications/a%00b"):
        assert (await world.client.get(path, headers=world.staff["guangzhou"])).status_code in (404, 422)
    resp = await world.client.get("/api/v1/orgs", params={"parent_id": "a\x00b"}, headers=world.admin)
    assert resp.status_code in (200, 422)
    resp = await world.apply(world.user(), employer_name="x\x00y")
    assert resp.status_code in (201, 422)
