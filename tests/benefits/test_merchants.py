from __future__ import annotations

from sqlalchemy import text

from tests.benefits.conftest import World


class TestMerchants:
    async def test_staff_creates_in_own_org_and_others_cannot_see_it(self, world: World) -> None:
        m = await world.merchant("guangzhou")
        assert m["org_id"] == world.orgs["guangzhou"] and m["category"] == "food"
        resp = await world.benefits.get(f"/api/v1/benefits/merchants/{m['id']}", headers=world.staff["shenzhen"])
        assert resp.status_code == 404 and resp.json()["code"] == "not_found"
        # a child org's staff does not manage its parent's merchants
        resp = await world.benefits.get(f"/api/v1/benefits/merchants/{m['id']}", headers=world.staff["gz_metro"])
        assert resp.status_code == 404
        listing = await world.benefits.get("/api/v1/benefits/merchants", headers=world.staff["guangzhou"])
        assert [x["id"] for x in listing.json()["items"]] == [m["id"]]
        assert (await world.benefits.get("/api/v1/benefits/merchants", headers=world.staff["shenzhen"])).json()[
            "items"] == []

    async def test_parent_staff_manages_child_org_merchant(self, world: World) -> None:
        m = await world.merchant("gz_metro")
        resp = await world.benefits.post(f"/api/v1/benefits/merchants/{m['id']}/credentials",
                                         headers=world.staff["guangzhou"])
        assert resp.status_code == 201

    async def test_staff_cannot_place_merchant_outside_subtree(self, world: World) -> None:
        resp = await world.benefits.post("/api/v1/benefits/merchants", headers=world.staff["guangzhou"], json={
            "name": "x", "category": "food", "address": "y", "lat": 1, "lng": 1, "org_id": world.orgs["shenzhen"]})
        assert resp.status_code == 403

    async def test_members_cannot_create(self, world: World) -> None:
        resp = await world.benefits.post("/api/v1/benefits/merchants", headers=world.tokens.headers(), json={
            "name": "x", "category": "food", "address": "y", "lat": 1, "lng": 1})
        assert resp.status_code == 403 and resp.json()["code"] == "forbidden"
        resp = await world.benefits.post("/api/v1/benefits/merchants", json={})
        assert resp.status_code == 401

    async def test_validation(self, world: World) -> None:
        base = {"name": "x", "category": "food", "address": "y", "lat": 23.1, "lng": 113.2}
        for bad in ({"lat": 90.5}, {"lat": -91}, {"lng": 180.1}, {"lng": -181}, {"category": "gambling"},
                    {"name": ""}, {"lat": "NaN"}):
            resp = await world.benefits.post("/api/v1/benefits/merchants", headers=world.staff["guangzhou"],
                                             json={**base, **bad})
            assert resp.status_code == 422, bad
            assert resp.json()["code"] == "validation_error"


class TestCredentials:
    async def test_secret_shown_once_and_stored_encrypted(self, world: World) -> None:
        m = await world.merchant()
        pos = await world.pos(m["id"])
        assert pos.key_id.startswith("mk_") and pos.secret.startswith("sk_")
        listing = await world.benefits.get(f"/api/v1/benefits/merchants/{m['id']}/credentials",
                                           headers=world.staff["guangzhou"])
        assert listing.status_code == 200
        assert pos.secret not in listing.text and listing.json()["items"][0]["key_id"] == pos.key_id
        # At rest: not the secret, not a plain encoding of it.
        async with world.app.state.db.engine.connect() as conn:
            stored = (await conn.execute(text("SELECT secret_enc FROM merchant_keys"))).scalar_one()
        assert stored.startswith("k1.") and pos.secret not in stored and pos.secret[3:] not in stored

    async def test_several_active_keys(self, world: World) -> None:
        m = await world.merchant()
        a, b = await world.pos(m["id"]), await world.pos(m["id"])
        assert a.key_id != b.key_id
        for pos in (a, b):
            resp = await pos.verify("nonsense")
            assert resp.status_code == 200, resp.text

    async def test_revoke_other_merchants_key_is_404(self, world: World) -> None:
        m1, m2 = await world.merchant(), await world.merchant()
        pos = await world.pos(m1["id"])
        resp = await world.benefits.delete(f"/api/v1/benefits/merchants/{m2['id']}/credentials/{pos.key_id}",
                                           headers=world.staff["guangzhou"])
        assert resp.status_code == 404
        resp = await world.benefits.delete(f"/api/v1/benefits/merchants/{m1['id']}/credentials/{pos.key_id}",
                                           headers=world.staff["shenzhen"])
        assert resp.status_code == 404


class TestDemoSeed:
    async def test_seed_creates_merchants_offers_and_a_working_key(self, world: World) -> None:
        from scripts.demo.benefits import MERCHANTS, seed
        from tests.benefits.conftest import Pos

        ctx: dict = {"orgs": dict(world.orgs), "headers": {"staff_city": world.staff["guangzhou"]}}
        await seed(world.benefits, ctx)
        offers = (await world.benefits.get("/api/v1/benefits/offers", params={"limit": 100},
                                           headers=world.tokens.headers())).json()["items"]
        assert len(offers) == sum(len(m["offers"]) for m in MERCHANTS)
        assert len({o["merchant"]["category"] for o in offers}) >= 5
        pos = Pos(world.benefits, ctx["merchant_key"]["key_id"], ctx["merchant_key"]["secret"])
        assert (await pos.verify("x")).status_code == 200
