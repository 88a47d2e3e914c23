"""DELETE /me, membership side: identity's account.closed event erases the person's real name,
ID number and employer here; the member row, card number and audit trail stay with ids only."""

from __future__ import annotations

from sqlalchemy import select

from services.membership.applications.models import Application
from services.membership.audit.models import AuditEntry
from services.membership.members.models import Card, Member
from tests.membership.conftest import World, id_number, service_headers
from tests.membership.test_internal_api import _account


async def _close(world: World, account_id: str, event_id: str = "evt-1", caller: str = "identity") -> dict:
    resp = await world.client.post("/internal/events", headers=service_headers(caller),
                                   json={"id": event_id, "topic": "account.closed",
                                         "payload": {"account_id": account_id}})
    assert resp.status_code == 200, resp.text
    return resp.json()


class TestAccountClosed:
    async def test_member_erased_and_audit_kept(self, world: World) -> None:
        number = id_number(555)
        headers, app = await world.member(id_number=number, real_name="李四光")
        member_id = app["member_id"]
        await world.client.post(f"/api/v1/membership/members/{member_id}/suspend", json={"reason": "x"},
                                headers=world.staff["guangzhou"])
        await world.client.post(f"/api/v1/membership/members/{member_id}/reinstate", headers=world.staff["guangzhou"])
        token = await world.qr(headers)
        account = _account(headers)
        assert await _close(world, account) == {"status": "ok"}

        assert (await world.client.get("/api/v1/membership/me", headers=headers)).json()["code"] == "not_a_member"
        resp = await world.client.get(f"/internal/members/by-account/{account}", headers=service_headers())
        assert resp.status_code == 404 and resp.json()["code"] == "not_a_member"
        check = (await world.internal("/internal/qr/check", {"token": token})).json()
        assert check == {"valid": False, "reason": "not_a_member", "member": None}
        assert (await world.internal("/internal/qr/consume", {"token": token})).json()["valid"] is False
        resp = await world.client.get(f"/api/v1/membership/applications/{app['id']}", headers=headers)
        assert resp.json()["real_name_masked"] is None and resp.json()["id_number_masked"] is None

        db = world.client._transport.app.state.db  # type: ignore[attr-defined]
        async with db.sessionmaker() as session:
            member = await session.get(Member, member_id)
            assert member is not None and member.status == "closed"
            assert (member.real_name_enc, member.real_name_masked, member.id_number_enc, member.id_number_hash,
                    member.id_number_masked) == (None, None, None, None, None)
            card = await session.scalar(select(Card).where(Card.member_id == member_id))
            assert card is not None and card.status == "revoked"
            application = await session.get(Application, app["id"])
            assert application is not None
            assert (application.real_name_enc, application.id_number_enc, application.id_number_hash,
                    application.employer_name) == (None, None, None, None)
            trail = list(await session.scalars(select(AuditEntry).where(AuditEntry.target_id == member_id)
                                               .order_by(AuditEntry.at)))
        assert [e.action for e in trail] == ["member.suspend", "member.reinstate", "member.erase"]
        assert trail[-1].actor_id == "identity"

        # The same person may join again later with a new account.
        again = await world.apply(world.user(), id_number=number)
        assert again.status_code == 201

    async def test_pending_application_and_transfer_are_withdrawn(self, world: World) -> None:
        applicant = world.user()
        app = (await world.apply(applicant)).json()
        member, _ = await world.member()
        transfer = (await world.client.post("/api/v1/membership/transfers",
                                            json={"to_org_id": world.orgs["sz_port"], "reason": "调动"},
                                            headers=member)).json()
        await _close(world, _account(applicant), "evt-a")
        await _close(world, _account(member), "evt-b")
        resp = await world.client.post(f"/api/v1/membership/applications/{app['id']}/approve",
                                       headers=world.staff["guangzhou"])
        assert resp.status_code == 409
        resp = await world.client.get(f"/api/v1/membership/transfers/{transfer['id']}", headers=world.admin)
        assert resp.json()["status"] == "cancelled" and resp.json()["reason"] is None

    async def test_idempotent_and_unknown_topics(self, world: World) -> None:
        headers, _ = await world.member()
        account = _account(headers)
        assert await _close(world, account, "evt-x") == {"status": "ok"}
        assert await _close(world, account, "evt-x") == {"status": "ok"}
        assert await _close(world, "never-a-member", "evt-y") == {"status": "ok"}
        resp = await world.client.post("/internal/events", headers=service_headers("identity"),
                                       json={"id": "evt-z", "topic": "something.else", "payload": {}})
        assert resp.json() == {"status": "ignored"}

    async def test_only_identity_may_send(self, world: World) -> None:
        headers, _ = await world.member()
        resp = await world.client.post("/internal/events", headers=service_headers("benefits"),
                                       json={"id": "e", "topic": "account.closed",
                                             "payload": {"account_id": _account(headers)}})
        assert resp.status_code == 401
        resp = await world.client.post("/internal/events", json={"id": "e", "topic": "account.closed",
                                                                 "payload": {"account_id": _account(headers)}})
        assert resp.status_code == 401
        assert (await world.client.get("/api/v1/membership/me", headers=headers)).status_code == 200
