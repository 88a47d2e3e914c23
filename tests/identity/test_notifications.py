from __future__ import annotations

import httpx

from services.common.internal_auth import ServiceSigner
from tests.apps import TEST_INTERNAL_SECRET
from tests.identity.conftest import OTHER_PHONE, bearer, sms_login

PRODUCER = ServiceSigner(TEST_INTERNAL_SECRET, "legal_aid")


async def _event(client: httpx.AsyncClient, event_id: str, account_id: str, kind: str = "ticket_reply",
                 signer: ServiceSigner = PRODUCER) -> httpx.Response:
    return await client.post("/internal/events", headers={"x-service-token": signer.token_for("identity")}, json={
        "id": event_id, "topic": "notification",
        "payload": {"account_id": account_id, "kind": kind, "title": "律师回复了您的咨询",
                    "body": "请查看工单回复", "link": "/legal/tickets/t1"}})


class TestInbox:
    async def test_event_lands_once_and_is_read(self, identity: httpx.AsyncClient) -> None:
        pair = await sms_login(identity)
        assert (await _event(identity, "ev-1", pair["account_id"])).json() == {"status": "ok"}
        assert (await _event(identity, "ev-1", pair["account_id"])).json() == {"status": "duplicate"}
        await _event(identity, "ev-2", pair["account_id"], kind="application_approved")
        page = (await identity.get("/api/v1/notifications", headers=bearer(pair))).json()
        assert [n["kind"] for n in page["items"]] == ["application_approved", "ticket_reply"]
        first = page["items"][1]
        assert first["read_at"] is None and first["link"] == "/legal/tickets/t1"
        read = await identity.post(f"/api/v1/notifications/{first['id']}/read", headers=bearer(pair))
        assert read.status_code == 200 and read.json()["read_at"] is not None
        unread = (await identity.get("/api/v1/notifications?unread=true", headers=bearer(pair))).json()
        assert [n["kind"] for n in unread["items"]] == ["application_approved"]

    async def test_pagination(self, identity: httpx.AsyncClient) -> None:
        pair = await sms_login(identity)
        for i in range(5):
            await _event(identity, f"page-{i}", pair["account_id"])
        first = (await identity.get("/api/v1/notifications?limit=3", headers=bearer(pair))).json()
        second = (await identity.get(f"/api/v1/notifications?limit=3&cursor={first['next_cursor']}",
                                     headers=bearer(pair))).json()
        ids = [n["id"] for n in first["items"] + second["items"]]
        assert len(ids) == 5 == len(set(ids)) and second["next_cursor"] is None

    async def test_someone_elses_notification_is_404(self, identity: httpx.AsyncClient) -> None:
        owner = await sms_login(identity)
        other = await sms_login(identity, phone=OTHER_PHONE)
        await _event(identity, "ev-x", owner["account_id"])
        nid = (await identity.get("/api/v1/notifications", headers=bearer(owner))).json()["items"][0]["id"]
        resp = await identity.post(f"/api/v1/notifications/{nid}/read", headers=bearer(other))
        assert resp.status_code == 404 and resp.json()["code"] == "not_found"
        assert (await identity.get("/api/v1/notifications", headers=bearer(other))).json()["items"] == []
        mine = (await identity.get("/api/v1/notifications", headers=bearer(owner))).json()["items"][0]
        assert mine["read_at"] is None

    async def test_internal_events_need_a_service_token(self, identity: httpx.AsyncClient) -> None:
        pair = await sms_login(identity)
        resp = await identity.post("/internal/events", json={"id": "e", "topic": "notification", "payload": {}})
        assert resp.status_code == 401
        forged = ServiceSigner("not-the-secret-but-long-enough-000000", "legal_aid")
        assert (await _event(identity, "ev-f", pair["account_id"], signer=forged)).status_code == 401
        outsider = ServiceSigner(TEST_INTERNAL_SECRET, "gateway")
        assert (await _event(identity, "ev-g", pair["account_id"], signer=outsider)).status_code == 401


class TestWechatSubscribeMessage:
    async def test_opted_in_user_gets_one_message_per_grant(self, wechat_identity: httpx.AsyncClient,
                                                            wechat_fake, identity_settings) -> None:  # type: ignore[no-untyped-def]
        wechat_fake.state.fake["login_codes"]["n1"] = "openid-n1"
        pair = (await wechat_identity.post("/api/v1/auth/wechat/login", json={"code": "n1"})).json()
        grant = await wechat_identity.post("/api/v1/notifications/wechat-subscriptions", headers=bearer(pair),
                                           json={"kinds": ["ticket_reply"]})
        assert grant.status_code == 200 and grant.json() == [{"kind": "ticket_reply", "remaining": 1}]
        await _event(wechat_identity, "w-1", pair["account_id"])
        await _event(wechat_identity, "w-2", pair["account_id"])
        messages = wechat_fake.state.fake["messages"]
        assert len(messages) == 1
        assert messages[0]["touser"] == "openid-n1" and messages[0]["template_id"] == "tmpl-reply"
        inbox = (await wechat_identity.get("/api/v1/notifications", headers=bearer(pair))).json()
        assert len(inbox["items"]) == 2
