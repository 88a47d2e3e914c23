"""Staff of one city cannot see, approve, reject, suspend, reinstate or transfer members of
another city — every staff action, both ways; refusals are 404 (never reveal existence) and land
in the audit log as "denied"."""

from __future__ import annotations

from sqlalchemy import select

from services.membership.audit.models import AuditEntry
from tests.membership.conftest import World


async def _audit(world: World, target_id: str) -> list[tuple[str, str]]:
    db = world.client._transport.app.state.db  # type: ignore[attr-defined]
    async with db.sessionmaker() as session:
        rows = await session.scalars(select(AuditEntry).where(AuditEntry.target_id == target_id))
        return sorted((r.action, r.outcome) for r in rows)


class TestOtherCity:
    async def test_applications(self, world: World) -> None:
        app = (await world.apply(world.user(), org="gz_metro")).json()
        sz = world.staff["shenzhen"]
        c = world.client
        assert (await c.get(f"/api/v1/membership/applications/{app['id']}", headers=sz)).status_code == 404
        listed = (await c.get("/api/v1/membership/applications", headers=sz)).json()
        assert app["id"] not in {a["id"] for a in listed["items"]}
        resp = await c.post(f"/api/v1/membership/applications/{app['id']}/approve", headers=sz)
        assert resp.status_code == 404 and resp.json()["code"] == "not_found"
        resp = await c.post(f"/api/v1/membership/applications/{app['id']}/reject", json={"reason": "x"}, headers=sz)
        assert resp.status_code == 404
        # Staff of a sibling workplace union inside the same city are outside too.
        resp = await c.post(f"/api/v1/membership/applications/{app['id']}/approve", headers=world.staff["gz_metro"])
        assert resp.status_code == 200
        assert await _audit(world, app["id"]) == [("application.approve", "denied"),
                                                  ("application.approve", "success"),
                                                  ("application.reject", "denied")]

    async def test_sibling_workplace_staff(self, world: World) -> None:
        app = (await world.apply(world.user(), org="gz_airport")).json()
        resp = await world.client.post(f"/api/v1/membership/applications/{app['id']}/approve",
                                       headers=world.staff["gz_metro"])
        assert resp.status_code == 404

    async def test_members(self, world: World) -> None:
        _, app = await world.member(org="sz_port", staff="shenzhen")
        member_id = app["member_id"]
        gz = world.staff["guangzhou"]
        c = world.client
        assert (await c.get(f"/api/v1/membership/members/{member_id}", headers=gz)).status_code == 404
        listed = (await c.get("/api/v1/membership/members", headers=gz)).json()
        assert member_id not in {m["member_id"] for m in listed["items"]}
        resp = await c.post(f"/api/v1/membership/members/{member_id}/suspend", json={"reason": "x"}, headers=gz)
        assert resp.status_code == 404
        # Suspended by its own city; the other city cannot reinstate.
        assert (await c.post(f"/api/v1/membership/members/{member_id}/suspend", json={"reason": "x"},
                             headers=world.staff["shenzhen"])).status_code == 200
        resp = await c.post(f"/api/v1/membership/members/{member_id}/reinstate", headers=gz)
        assert resp.status_code == 404
        assert (await c.get(f"/api/v1/membership/members/{member_id}", headers=world.staff["shenzhen"])
                ).json()["status"] == "suspended"
        assert ("member.suspend", "denied") in await _audit(world, member_id)
        assert ("member.reinstate", "denied") in await _audit(world, member_id)

    async def test_transfers(self, world: World) -> None:
        headers, _ = await world.member(org="gz_metro")
        transfer = (await world.client.post("/api/v1/membership/transfers",
                                            json={"to_org_id": world.orgs["sz_port"], "reason": "调动"},
                                            headers=headers)).json()
        # Guangzhou staff (the member's current city) may see it but not approve: the target decides.
        resp = await world.client.post(f"/api/v1/membership/transfers/{transfer['id']}/approve",
                                       headers=world.staff["guangzhou"])
        assert resp.status_code == 404
        resp = await world.client.post(f"/api/v1/membership/transfers/{transfer['id']}/reject",
                                       json={"reason": "x"}, headers=world.staff["guangzhou"])
        assert resp.status_code == 404
        listed = (await world.client.get("/api/v1/membership/transfers", headers=world.staff["guangzhou"])).json()
        assert listed["items"] == []
        me = (await world.client.get("/api/v1/membership/me", headers=headers)).json()
        assert me["org_id"] == world.orgs["gz_metro"]
        # A member of Shenzhen moving to Guangzhou is invisible to a third city.
        other_city = await world.org("foshan", "佛山市总工会", "guangdong")
        staff_fs = world.tokens.headers(roles=["staff"], org_id=other_city, phone_masked=None)
        resp = await world.client.get(f"/api/v1/membership/transfers/{transfer['id']}", headers=staff_fs)
        assert resp.status_code == 404

    async def test_province_staff_cover_both_cities(self, world: World) -> None:
        app = (await world.apply(world.user(), org="sz_port")).json()
        resp = await world.client.post(f"/api/v1/membership/applications/{app['id']}/approve",
                                       headers=world.staff["guangdong"])
        assert resp.status_code == 200

    async def test_staff_of_unknown_org_and_staff_without_org(self, world: World) -> None:
        app = (await world.apply(world.user())).json()
        for headers in (world.tokens.headers(roles=["staff"], org_id="ghost"), world.tokens.headers(roles=["staff"])):
            resp = await world.client.post(f"/api/v1/membership/applications/{app['id']}/approve", headers=headers)
            assert resp.status_code == 403
