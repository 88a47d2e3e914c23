from __future__ import annotations

from sqlalchemy import select

from services.membership.audit.models import AuditEntry
from tests.membership.conftest import World


class TestMe:
    async def test_not_a_member(self, world: World) -> None:
        resp = await world.client.get("/api/v1/membership/me", headers=world.user())
        assert resp.status_code == 404 and resp.json()["code"] == "not_a_member"
        resp = await world.client.post("/api/v1/membership/me/qr", headers=world.user())
        assert resp.status_code == 404 and resp.json()["code"] == "not_a_member"

    async def test_pending_applicant_is_not_a_member(self, world: World) -> None:
        headers = world.user()
        await world.apply(headers)
        assert (await world.client.get("/api/v1/membership/me", headers=headers)).status_code == 404


class TestQrIssue:
    async def test_short_lived(self, world: World) -> None:
        from datetime import UTC, datetime

        headers, _ = await world.member()
        resp = await world.client.post("/api/v1/membership/me/qr", headers=headers)
        assert resp.status_code == 201
        body = resp.json()
        left = (datetime.fromisoformat(body["expires_at"]) - datetime.now(UTC)).total_seconds()
        assert 50 < left <= 60
        assert len(body["token"]) <= 64

    async def test_suspended_member_gets_no_code(self, world: World) -> None:
        headers, app = await world.member()
        await world.client.post(f"/api/v1/membership/members/{app['member_id']}/suspend", json={"reason": "违纪"},
                                headers=world.staff["guangzhou"])
        resp = await world.client.post("/api/v1/membership/me/qr", headers=headers)
        assert resp.status_code == 403 and resp.json()["code"] == "member_not_active"

    async def test_issue_rate_limited(self, world: World) -> None:
        headers, _ = await world.member()
        codes = [(await world.client.post("/api/v1/membership/me/qr", headers=headers)).status_code
                 for _ in range(31)]
        assert codes[:30] == [201] * 30 and codes[30] == 429


class TestSuspendReinstate:
    async def test_cycle_with_audit(self, world: World) -> None:
        headers, app = await world.member()
        member_id = app["member_id"]
        staff = world.staff["guangzhou"]
        resp = await world.client.post(f"/api/v1/membership/members/{member_id}/suspend", json={"reason": "违纪"},
                                       headers=staff, )
        assert resp.status_code == 200 and resp.json() == {"member_id": member_id, "status": "suspended"}
        me = (await world.client.get("/api/v1/membership/me", headers=headers)).json()
        assert me["status"] == "suspended" and me["card"]["status"] == "suspended"
        resp = await world.client.post(f"/api/v1/membership/members/{member_id}/suspend", json={"reason": "再次"},
                                       headers=staff)
        assert resp.status_code == 409 and resp.json()["code"] == "invalid_state"
        resp = await world.client.post(f"/api/v1/membership/members/{member_id}/reinstate", headers=staff,
                                       )
        assert resp.status_code == 200 and resp.json() == {"member_id": member_id, "status": "active"}
        me = (await world.client.get("/api/v1/membership/me", headers=headers)).json()
        assert me["status"] == "active" and me["card"]["status"] == "active"
        resp = await world.client.post(f"/api/v1/membership/members/{member_id}/reinstate", headers=staff)
        assert resp.status_code == 409

        db = world.client._transport.app.state.db  # type: ignore[attr-defined]
        async with db.sessionmaker() as session:
            rows = list(await session.scalars(select(AuditEntry).where(AuditEntry.target_id == member_id)
                                              .order_by(AuditEntry.at)))
        actions = [(r.action, r.outcome) for r in rows]
        assert actions == [("member.suspend", "success"), ("member.reinstate", "success")]
        assert all(r.actor_id and r.actor_roles == "staff" and r.request_id and r.at for r in rows)

    async def test_suspend_needs_reason(self, world: World) -> None:
        _, app = await world.member()
        resp = await world.client.post(f"/api/v1/membership/members/{app['member_id']}/suspend", json={},
                                       headers=world.staff["guangzhou"])
        assert resp.status_code == 422

    async def test_user_cannot_suspend(self, world: World) -> None:
        headers, app = await world.member()
        resp = await world.client.post(f"/api/v1/membership/members/{app['member_id']}/suspend",
                                       json={"reason": "x"}, headers=headers)
        assert resp.status_code == 403

    async def test_request_id_lands_in_audit(self, world: World) -> None:
        _, app = await world.member()
        resp = await world.client.post(f"/api/v1/membership/members/{app['member_id']}/suspend",
                                       json={"reason": "x"},
                                       headers={**world.staff["guangzhou"], "x-request-id": "req-audit-42"})
        assert resp.headers["x-request-id"] == "req-audit-42"
        db = world.client._transport.app.state.db  # type: ignore[attr-defined]
        async with db.sessionmaker() as session:
            entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "member.suspend"))
        assert entry is not None and entry.request_id == "req-audit-42"


class TestStaffMemberViews:
    async def test_list_and_get_masked(self, world: World) -> None:
        _, a = await world.member()
        _, b = await world.member(org="gz_airport")
        await world.member(org="sz_port", staff="shenzhen")
        page = (await world.client.get("/api/v1/membership/members", headers=world.staff["guangzhou"])).json()
        assert {m["member_id"] for m in page["items"]} == {a["member_id"], b["member_id"]}
        one = (await world.client.get(f"/api/v1/membership/members/{a['member_id']}",
                                      headers=world.staff["guangzhou"])).json()
        assert one["real_name_masked"] == "张**" and "*" in one["card_no_masked"]
