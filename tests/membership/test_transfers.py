from __future__ import annotations

from sqlalchemy import select

from services.membership.audit.models import AuditEntry
from tests.membership.conftest import World


async def _request(world: World, headers: dict[str, str], to: str = "sz_port") -> dict:
    resp = await world.client.post("/api/v1/membership/transfers",
                                   json={"to_org_id": world.orgs[to], "reason": "工作调动到深圳"}, headers=headers)
    assert resp.status_code == 201, resp.text
    return resp.json()


class TestTransfer:
    async def test_complete_keeps_card_and_qr_keeps_working(self, world: World) -> None:
        headers, app = await world.member()
        before = (await world.client.get("/api/v1/membership/me", headers=headers)).json()
        transfer = await _request(world, headers)
        assert transfer["status"] == "pending" and transfer["from_org_id"] == world.orgs["gz_metro"]
        assert transfer["to_org_id"] == world.orgs["sz_port"]
        # While pending the member is still in the old union and the card works.
        token = await world.qr(headers)
        check = (await world.internal("/internal/qr/check", {"token": token})).json()
        assert check["valid"] and check["member"]["org_id"] == world.orgs["gz_metro"]

        resp = await world.client.post(f"/api/v1/membership/transfers/{transfer['id']}/approve",
                                       headers=world.staff["shenzhen"])
        assert resp.status_code == 200 and resp.json()["status"] == "completed"
        after = (await world.client.get("/api/v1/membership/me", headers=headers)).json()
        assert after["org_id"] == world.orgs["sz_port"] and after["org_name"] == "深圳港集团工会"
        assert after["card"] == before["card"] and after["member_id"] == before["member_id"]
        # The code issued before the move is still good, and now shows the new union.
        check = (await world.internal("/internal/qr/check", {"token": token})).json()
        assert check["valid"] and check["member"]["org_path"] == world.paths["sz_port"]

        db = world.client._transport.app.state.db  # type: ignore[attr-defined]
        async with db.sessionmaker() as session:
            entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "transfer.approve"))
        assert entry is not None and entry.target_id == app["member_id"]
        assert entry.detail == {"transfer_id": transfer["id"], "from_org_id": world.orgs["gz_metro"],
                                "to_org_id": world.orgs["sz_port"]}

    async def test_rules(self, world: World) -> None:
        resp = await world.client.post("/api/v1/membership/transfers",
                                       json={"to_org_id": world.orgs["sz_port"], "reason": "x"}, headers=world.user())
        assert resp.status_code == 404 and resp.json()["code"] == "not_a_member"
        headers, _ = await world.member()
        resp = await world.client.post("/api/v1/membership/transfers",
                                       json={"to_org_id": world.orgs["gz_metro"], "reason": "x"}, headers=headers)
        assert resp.status_code == 422 and resp.json()["code"] == "same_org"
        resp = await world.client.post("/api/v1/membership/transfers",
                                       json={"to_org_id": "nope", "reason": "x"}, headers=headers)
        assert resp.status_code == 422 and resp.json()["code"] == "invalid_org"
        await _request(world, headers)
        resp = await world.client.post("/api/v1/membership/transfers",
                                       json={"to_org_id": world.orgs["gz_airport"], "reason": "x"}, headers=headers)
        assert resp.status_code == 409 and resp.json()["code"] == "transfer_pending"

    async def test_reject_then_request_again(self, world: World) -> None:
        headers, _ = await world.member()
        transfer = await _request(world, headers)
        resp = await world.client.post(f"/api/v1/membership/transfers/{transfer['id']}/reject",
                                       json={"reason": "材料不全"}, headers=world.staff["shenzhen"])
        assert resp.status_code == 200 and resp.json()["status"] == "rejected"
        resp = await world.client.post(f"/api/v1/membership/transfers/{transfer['id']}/approve",
                                       headers=world.staff["shenzhen"])
        assert resp.status_code == 409 and resp.json()["code"] == "transfer_not_pending"
        await _request(world, headers)

    async def test_suspended_member_cannot_transfer(self, world: World) -> None:
        headers, app = await world.member()
        transfer = await _request(world, headers)
        await world.client.post(f"/api/v1/membership/members/{app['member_id']}/suspend", json={"reason": "x"},
                                headers=world.staff["guangzhou"])
        resp = await world.client.post(f"/api/v1/membership/transfers/{transfer['id']}/approve",
                                       headers=world.staff["shenzhen"])
        assert resp.status_code == 403 and resp.json()["code"] == "member_not_active"

    async def test_visibility(self, world: World) -> None:
        headers, _ = await world.member()
        transfer = await _request(world, headers)
        for who in (headers, world.staff["shenzhen"], world.staff["guangzhou"], world.admin):
            resp = await world.client.get(f"/api/v1/membership/transfers/{transfer['id']}", headers=who)
            assert resp.status_code == 200
        resp = await world.client.get(f"/api/v1/membership/transfers/{transfer['id']}", headers=world.user())
        assert resp.status_code == 404
        mine = (await world.client.get("/api/v1/membership/transfers", headers=headers)).json()
        assert [t["id"] for t in mine["items"]] == [transfer["id"]]
        incoming = (await world.client.get("/api/v1/membership/transfers", headers=world.staff["shenzhen"])).json()
        assert [t["id"] for t in incoming["items"]] == [transfer["id"]]
