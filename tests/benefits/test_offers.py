from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from services.benefits.offers.geo import bounding_box, haversine_m
from services.common.pagination import encode_cursor
from tests.benefits.conftest import World

OFFERS = "/api/v1/benefits/offers"
# Guangzhou Tower; merchants placed at known distances north of it.
TOWER = (23.1066, 113.3245)


def north(meters: float) -> tuple[float, float]:
    return TOWER[0] + meters / 111_195.0, TOWER[1]


def destination(start: tuple[float, float], meters: float, bearing: float) -> tuple[float, float]:
    """The point `meters` from `start` in direction `bearing` (degrees) on the sphere."""
    d, b = meters / 6_371_008.8, math.radians(bearing)
    p1, l1 = math.radians(start[0]), math.radians(start[1])
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(b))
    l2 = l1 + math.atan2(math.sin(b) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2))
    return math.degrees(p2), (math.degrees(l2) + 540) % 360 - 180


def _cat(category: str | None) -> dict[str, str]:
    return {"category": category} if category else {}


BAD_OFFERS: list[dict[str, Any]] = [
        {"discount_type": "percent_off", "value": 0}, {"discount_type": "percent_off", "value": 100},
        {"discount_type": "amount_off", "value": 0}, {"per_member_limit": 0}, {"limit_period": "year"},
        {"min_spend_fen": -1}, {"max_discount_fen": 0}, {"total_quota": 0},
        {"starts_at": "2026-01-02T00:00:00+08:00", "ends_at": "2026-01-01T00:00:00+08:00"},
        {"starts_at": "2026-01-01T00:00:00+08:00", "ends_at": "2026-01-01T00:00:00+08:00"},
        {"starts_at": "2026-01-01T00:00:00"},  # no offset
        {"title": ""}, {"surprise": 1},
]


class TestOfferValidation:
    async def test_rejected(self, world: World) -> None:
        m = await world.merchant()
        now = datetime.now(UTC)
        for bad in BAD_OFFERS:
            body = {"merchant_id": m["id"], "title": "满100减20", "discount_type": "amount_off", "value": 2000,
                    "per_member_limit": 1, "limit_period": "day", "starts_at": now.isoformat(),
                    "ends_at": (now + timedelta(days=1)).isoformat(), **bad}
            resp = await world.benefits.post(OFFERS, json=body, headers=world.staff["guangzhou"])
            assert resp.status_code == 422, (bad, resp.text)
            assert resp.json()["code"] == "validation_error"

    async def test_amount_above_99_is_fine_for_amount_off(self, world: World) -> None:
        m = await world.merchant()
        offer = await world.offer(m["id"], discount_type="amount_off", value=5000)
        assert offer["value"] == 5000 and offer["live"] is True and offer["merchant"]["id"] == m["id"]

    async def test_unknown_eligible_org(self, world: World) -> None:
        m = await world.merchant()
        now = datetime.now(UTC)
        resp = await world.benefits.post(OFFERS, headers=world.staff["guangzhou"], json={
            "merchant_id": m["id"], "title": "t", "discount_type": "percent_off", "value": 10, "per_member_limit": 1,
            "limit_period": "day", "eligible_org_id": "nope", "starts_at": now.isoformat(),
            "ends_at": (now + timedelta(days=1)).isoformat()})
        assert resp.status_code == 422 and resp.json()["code"] == "invalid_org"

    async def test_merchant_out_of_scope(self, world: World) -> None:
        m = await world.merchant("guangzhou")
        now = datetime.now(UTC)
        resp = await world.benefits.post(OFFERS, headers=world.staff["shenzhen"], json={
            "merchant_id": m["id"], "title": "t", "discount_type": "percent_off", "value": 10, "per_member_limit": 1,
            "limit_period": "day", "starts_at": now.isoformat(), "ends_at": (now + timedelta(days=1)).isoformat()})
        assert resp.status_code == 404

    async def test_get_by_id(self, world: World) -> None:
        m = await world.merchant()
        offer = await world.offer(m["id"], total_quota=10)
        resp = await world.benefits.get(f"{OFFERS}/{offer['id']}", headers=world.tokens.headers())
        assert resp.status_code == 200 and resp.json()["remaining_quota"] == 10
        assert (await world.benefits.get(f"{OFFERS}/nope", headers=world.tokens.headers())).status_code == 404
        assert (await world.benefits.get(f"{OFFERS}/{offer['id']}")).status_code == 401


class TestListing:
    async def test_live_only_category_and_chinese_text(self, world: World) -> None:
        food = await world.merchant(name="陶陶居酒家", category="food")
        cinema = await world.merchant(name="飞扬影城", category="entertainment")
        now = datetime.now(UTC)
        live = await world.offer(food["id"], title="早茶点心九折")
        movie = await world.offer(cinema["id"], title="周二电影半价", value=50)
        await world.offer(food["id"], title="未开始", starts_at=(now + timedelta(days=1)).isoformat(),
                          ends_at=(now + timedelta(days=2)).isoformat())
        await world.offer(food["id"], title="已结束", starts_at=(now - timedelta(days=2)).isoformat(),
                          ends_at=(now - timedelta(days=1)).isoformat())
        user = world.tokens.headers()

        async def ids(**params: Any) -> list[str]:
            resp = await world.benefits.get(OFFERS, params=params, headers=user)
            assert resp.status_code == 200, resp.text
            return [o["id"] for o in resp.json()["items"]]

        assert await ids() == [movie["id"], live["id"]]  # newest first, live only
        assert await ids(category="food") == [live["id"]]
        assert await ids(q="陶陶") == [live["id"]]  # merchant name, 2 characters
        assert await ids(q="电影") == [movie["id"]]  # offer title
        assert await ids(q="点心 陶陶居") == [live["id"]]  # every term must match
        assert await ids(q="100%") == []  # LIKE wildcards are literal
        resp = await world.benefits.get(OFFERS, params={"category": "gambling"}, headers=user)
        assert resp.status_code == 422

    async def test_pagination_newest_first(self, world: World) -> None:
        m = await world.merchant()
        made = [(await world.offer(m["id"], title=f"优惠{i}"))["id"] for i in range(5)]
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = (await world.benefits.get(OFFERS, params=params, headers=world.tokens.headers())).json()
            seen += [o["id"] for o in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert seen == made[::-1]
        bad = await world.benefits.get(OFFERS, params={"cursor": "!!"}, headers=world.tokens.headers())
        assert bad.status_code == 422


class TestNearby:
    async def test_nearest_first_within_radius_with_distance(self, world: World) -> None:
        placed = {}
        for meters in (3000, 100, 1200, 4900, 5200, 40_000):
            lat, lng = north(meters)
            m = await world.merchant(name=f"店{meters}", lat=lat, lng=lng)
            placed[meters] = (await world.offer(m["id"], title=f"优惠{meters}"))["id"]
        resp = await world.benefits.get(OFFERS, params={"lat": TOWER[0], "lng": TOWER[1]},
                                        headers=world.tokens.headers())
        assert resp.status_code == 200, resp.text
        items = resp.json()["items"]
        assert [o["id"] for o in items] == [placed[m] for m in (100, 1200, 3000, 4900)]
        for o, meters in zip(items, (100, 1200, 3000, 4900), strict=True):
            assert abs(o["distance_m"] - meters) <= 2
        wide = await world.benefits.get(OFFERS, params={"lat": TOWER[0], "lng": TOWER[1], "radius_m": 50_000},
                                        headers=world.tokens.headers())
        assert len(wide.json()["items"]) == 6

    async def test_stable_pagination_with_equal_distances(self, world: World) -> None:
        expected = []
        for meters in (500, 800):
            lat, lng = north(meters)
            m = await world.merchant(lat=lat, lng=lng)
            ids = sorted([(await world.offer(m["id"]))["id"] for _ in range(3)])
            expected += ids  # same merchant, same distance: ordered by id
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"lat": TOWER[0], "lng": TOWER[1], "limit": 2}
            if cursor:
                params["cursor"] = cursor
            page = (await world.benefits.get(OFFERS, params=params, headers=world.tokens.headers())).json()
            seen += [o["id"] for o in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert seen == expected

    async def test_rings_give_the_order_of_a_full_sort(self, world: World) -> None:
        """The ring-by-ring search (a dense centre, sparse outskirts, some beyond the radius, two
        offers at one shop) pages exactly as computing every distance and sorting would: pages of
        7 over 50 km, with and without a category filter, each distance_m exact."""
        rng = random.Random(4)
        bands = [(20, 1500)] * 22 + [(2_000, 20_000)] * 10 + [(20_000, 49_800)] * 5 + [(50_300, 60_000)] * 3
        for i, (lo, hi) in enumerate(bands):
            lat, lng = destination(TOWER, rng.uniform(lo, hi), rng.uniform(0, 360))
            m = await world.merchant(name=f"店{i}", lat=lat, lng=lng, category="medical" if i % 3 == 0 else "food")
            for _ in range(2 if i % 7 == 0 else 1):
                await world.offer(m["id"])
        for category in (None, "medical"):
            everything = await self._all(world, {"limit": 100, **_cat(category)}, geo=False)
            expected = sorted((haversine_m(*TOWER, o["merchant"]["lat"], o["merchant"]["lng"]), o["id"])
                              for o in everything)
            expected = [(d, oid) for d, oid in expected if d <= 50_000]
            assert len(expected) == (15 if category else 43) and len(everything) > len(expected)
            seen = await self._all(world, {"radius_m": 50_000, "limit": 7, **_cat(category)})
            assert [o["id"] for o in seen] == [oid for _, oid in expected], category
            assert [o["distance_m"] for o in seen] == [round(d) for d, _ in expected]

    async def test_a_box_corner_never_jumps_the_queue(self, world: World) -> None:
        """A first ring's bounding box holds shops farther than the ring in its corners (1.3 km
        to the north-east in a 1 km ring's box) while a nearer shop (1.1 km east) lies outside it:
        the page must still be in distance order."""
        made = {}
        for meters, bearing in ((200, 0), (400, 180), (1300, 45), (1350, 225), (1100, 90)):
            lat, lng = destination(TOWER, meters, bearing)
            m = await world.merchant(lat=lat, lng=lng)
            made[meters] = (await world.offer(m["id"]))["id"]
        seen = await self._all(world, {"limit": 3})
        assert [o["id"] for o in seen] == [made[m] for m in (200, 400, 1100, 1300, 1350)]

    async def test_pages_stay_stable_while_shops_are_added(self, world: World) -> None:
        first = []
        for meters in (100, 200, 300, 400, 500):
            m = await world.merchant(lat=north(meters)[0], lng=TOWER[1])
            first.append((await world.offer(m["id"]))["id"])
        params: dict[str, Any] = {"lat": TOWER[0], "lng": TOWER[1], "limit": 2}
        page1 = (await world.benefits.get(OFFERS, params=params, headers=world.tokens.headers())).json()
        assert [o["id"] for o in page1["items"]] == first[:2]
        closer = await world.merchant(lat=north(50)[0], lng=TOWER[1])
        await world.offer(closer["id"])  # before the cursor: not shown again, nothing skipped
        farther = await world.merchant(lat=north(350)[0], lng=TOWER[1])
        between = (await world.offer(farther["id"]))["id"]
        rest = await self._all(world, {"limit": 2}, cursor=page1["next_cursor"])
        assert [o["id"] for o in rest] == [first[2], between, first[3], first[4]]

    async def test_forged_cursors_are_harmless(self, world: World) -> None:
        m = await world.merchant(lat=north(100)[0], lng=TOWER[1])
        await world.offer(m["id"])
        for key in ([-5, "x"], [1e12, "x"], [49_999.9, "zzz"], [0, ""]):
            params = {"lat": TOWER[0], "lng": TOWER[1], "radius_m": 50_000, "cursor": encode_cursor(key)}
            resp = await world.benefits.get(OFFERS, params=params, headers=world.tokens.headers())
            assert resp.status_code == 200, (key, resp.text)
            assert len(resp.json()["items"]) == (1 if key[0] <= 0 else 0), key

    async def _all(self, world: World, extra: dict[str, Any], cursor: str | None = None,
                   geo: bool = True) -> list[dict[str, Any]]:
        seen: list[dict[str, Any]] = []
        while True:
            params: dict[str, Any] = {**({"lat": TOWER[0], "lng": TOWER[1]} if geo else {}), **extra}
            if cursor:
                params["cursor"] = cursor
            resp = await world.benefits.get(OFFERS, params=params, headers=world.tokens.headers())
            assert resp.status_code == 200, resp.text
            page = resp.json()
            seen += page["items"]
            cursor = page["next_cursor"]
            if not cursor:
                return seen

    async def test_bad_geo_params(self, world: World) -> None:
        for params in ({"lat": 23.1}, {"lng": 113.3}, {"lat": 91, "lng": 0}, {"lat": 0, "lng": 181},
                       {"lat": 0, "lng": 0, "radius_m": 50_001}, {"lat": 0, "lng": 0, "radius_m": 0}):
            resp = await world.benefits.get(OFFERS, params=params, headers=world.tokens.headers())
            assert resp.status_code == 422, params

    async def test_across_the_antimeridian(self, world: World) -> None:
        m = await world.merchant(lat=0.0, lng=-179.99)
        offer = await world.offer(m["id"])
        resp = await world.benefits.get(OFFERS, params={"lat": 0, "lng": 179.99, "radius_m": 5000},
                                        headers=world.tokens.headers())
        assert [o["id"] for o in resp.json()["items"]] == [offer["id"]]


def test_bounding_box_contains_the_circle() -> None:
    for lat, lng in ((23.1, 113.3), (70.0, 20.0), (-45.0, 179.9), (89.99, 0.0)):
        box = bounding_box(lat, lng, 50_000)
        for bearing in range(0, 360, 10):
            # a point 49.9 km away in this direction
            d = 49_900 / 6_371_008.8
            b = math.radians(bearing)
            p1, l1 = math.radians(lat), math.radians(lng)
            p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(b))
            l2 = l1 + math.atan2(math.sin(b) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2))
            plat, plng = math.degrees(p2), (math.degrees(l2) + 540) % 360 - 180
            assert haversine_m(lat, lng, plat, plng) < 50_000
            assert box.lat_min <= plat <= box.lat_max
            assert any(lo <= plng <= hi for lo, hi in box.lng_ranges), (lat, lng, bearing)
