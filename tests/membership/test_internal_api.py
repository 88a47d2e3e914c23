"""The internal API other services call: org paths, member by account, QR check / consume /
release, and its service credential."""

from __future__ import annotations

import time

from services.common.internal_auth import ServiceSigner
from tests.apps import TEST_INTERNAL_SECRET
from tests.membership.conftest import World, service_headers


class TestInternalOrgs:
    async def test_org_with_materialised_path(self, world: World) -> None:
        resp = await world.client.get(f"/internal/orgs/{world.orgs['gz_metro']}", headers=service_headers("legal_aid"))
        assert resp.status_code == 200
        body = resp.json()
        o = world.orgs
        assert body == {"id": o["gz_metro"], "name": "广州地铁集团工会", "parent_id": o["guangzhou"],
                        "path": f"/{o['national']}/{o['guangdong']}/{o['guangzhou']}/{o['gz_metro']}/", "depth": 3}

    async def test_unknown_org_404(self, world: World) -> None:
        resp = await world.client.get("/internal/orgs/nope", headers=service_headers("jobs"))
        assert resp.status_code == 404 and resp.json()["code"] == "not_found"

    async def test_needs_a_service_token(self, world: World) -> None:
        resp = await world.client.get(f"/internal/orgs/{world.orgs['national']}")
        assert resp.status_code == 401 and resp.json()["code"] == "invalid_service_token"
        # A user's access token is not a service credential.
        resp = await world.client.get(f"/internal/orgs/{world.orgs['national']}",
                                      headers={"x-service-token": world.admin["authorization"][7:]})
        assert resp.status_code == 401
        forged = ServiceSigner("another-secret-0123456789abcdef0123", "benefits").token_for("membership")
        resp = await world.client.get(f"/internal/orgs/{world.orgs['national']}", headers={"x-service-token": forged})
        assert resp.status_code == 401
        # A token minted for another service is refused too.
        other = ServiceSigner(TEST_INTERNAL_SECRET, "benefits").token_for("jobs")
        resp = await world.client.get(f"/internal/orgs/{world.orgs['national']}", headers={"x-service-token": other})
        assert resp.status_code == 401


class TestMemberByAccount:
    async def test_member(self, world: World) -> None:
        headers, app = await world.member()
        me = (await world.client.get("/api/v1/membership/me", headers=headers)).json()
        resp = await world.client.get(f"/internal/members/by-account/{_account(headers)}",
                                      headers=service_headers("legal_aid"))
        assert resp.status_code == 200
        body = resp.json()
        assert body == {"member_id": app["member_id"], "account_id": _account(headers), "status": "active",
                        "org_id": world.orgs["gz_metro"], "org_name": "广州地铁集团工会",
                        "org_path": world.paths["gz_metro"], "card_no": me["card"]["card_no"]}

    async def test_not_a_member(self, world: World) -> None:
        resp = await world.client.get("/internal/members/by-account/someone", headers=service_headers())
        assert resp.status_code == 404 and resp.json()["code"] == "not_a_member"


def _account(headers: dict[str, str]) -> str:
    import jwt

    return str(jwt.decode(headers["authorization"][7:], options={"verify_signature": False})["sub"])


class TestQrCheck:
    async def test_valid_token_with_masked_member(self, world: World) -> None:
        headers, app = await world.member(real_name="欧阳娜娜")
        issued = (await world.client.post("/api/v1/membership/me/qr", headers=headers)).json()
        assert len(issued["token"]) <= 64
        resp = await world.internal("/internal/qr/check", {"token": issued["token"]})
        assert resp.status_code == 200
        body = resp.json()
        assert body["valid"] is True and body["reason"] is None
        member = body["member"]
        assert member["member_id"] == app["member_id"] and member["account_id"] == _account(headers)
        assert member["name_masked"] == "欧阳**" and member["status"] == "active"
        assert member["org_name"] == "广州地铁集团工会" and member["org_path"] == world.paths["gz_metro"]
        card_no = (await world.client.get("/api/v1/membership/me", headers=headers)).json()["card"]["card_no"]
        assert member["card_no_masked"] == card_no[:4] + "********" + card_no[-4:]
        # Checking never consumes: a second check and then a consume both succeed.
        assert (await world.internal("/internal/qr/check", {"token": issued["token"]})).json()["valid"] is True
        assert (await world.internal("/internal/qr/consume", {"token": issued["token"]})).json()["valid"] is True

    async def test_token_carries_no_personal_data(self, world: World) -> None:
        import base64

        headers, app = await world.member()
        token = await world.qr(headers)
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        for secret in (app["member_id"], _account(headers)):
            assert secret.encode() not in raw and secret not in token
            assert bytes.fromhex(secret) not in raw

    async def test_invalid_and_tampered(self, world: World) -> None:
        headers, _ = await world.member()
        token = await world.qr(headers)
        tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
        for bad in ("", "garbage", tampered, token + "x", "x" * 512):
            body = (await world.internal("/internal/qr/check", {"token": bad})).json()
            assert body == {"valid": False, "reason": "invalid", "member": None}, bad

    async def test_expired(self, world: World) -> None:
        from services.membership.qr.codec import QrCodec

        headers, _ = await world.member()
        await world.qr(headers)
        codec: QrCodec = world.client._transport.app.state.qr  # type: ignore[attr-defined]
        old, _id = codec.issue(int(time.time()) - 1)
        body = (await world.internal("/internal/qr/check", {"token": old})).json()
        assert body == {"valid": False, "reason": "expired", "member": None}

    async def test_authentic_but_unknown_row_is_invalid(self, world: World) -> None:
        codec = world.client._transport.app.state.qr  # type: ignore[attr-defined]
        token, _id = codec.issue(int(time.time()) + 30)
        body = (await world.internal("/internal/qr/check", {"token": token})).json()
        assert body == {"valid": False, "reason": "invalid", "member": None}

    async def test_suspended_member(self, world: World) -> None:
        headers, app = await world.member()
        token = await world.qr(headers)
        resp = await world.client.post(f"/api/v1/membership/members/{app['member_id']}/suspend",
                                       json={"reason": "会费长期未缴"}, headers=world.staff["guangzhou"])
        assert resp.status_code == 200
        for path in ("/internal/qr/check", "/internal/qr/consume"):
            body = (await world.internal(path, {"token": token})).json()
            assert body["valid"] is False and body["reason"] == "suspended"
            assert body["member"]["status"] == "suspended"
        # Reinstated: the same token (never consumed while suspended) works again.
        await world.client.post(f"/api/v1/membership/members/{app['member_id']}/reinstate",
                                headers=world.staff["guangzhou"])
        assert (await world.internal("/internal/qr/consume", {"token": token})).json()["valid"] is True

    async def test_requires_service_token(self, world: World) -> None:
        resp = await world.client.post("/internal/qr/check", json={"token": "x"})
        assert resp.status_code == 401
        resp = await world.client.post("/internal/qr/check", json={"token": "x"}, headers=world.admin)
        assert resp.status_code == 401


class TestQrConsume:
    async def test_single_use(self, world: World) -> None:
        headers, app = await world.member()
        token = await world.qr(headers)
        first = (await world.internal("/internal/qr/consume", {"token": token})).json()
        assert first["valid"] is True and first["member"]["member_id"] == app["member_id"]
        second = (await world.internal("/internal/qr/consume", {"token": token})).json()
        assert second["valid"] is False and second["reason"] == "used"
        assert second["member"]["member_id"] == app["member_id"]
        check = (await world.internal("/internal/qr/check", {"token": token})).json()
        assert check["reason"] == "used"

    async def test_new_code_after_use(self, world: World) -> None:
        headers, _ = await world.member()
        first = await world.qr(headers)
        second = await world.qr(headers)
        assert first != second
        assert (await world.internal("/internal/qr/consume", {"token": first})).json()["valid"] is True
        assert (await world.internal("/internal/qr/consume", {"token": second})).json()["valid"] is True

    async def test_release_makes_it_usable_again(self, world: World) -> None:
        headers, _ = await world.member()
        token = await world.qr(headers)
        assert (await world.internal("/internal/qr/consume", {"token": token})).json()["valid"] is True
        resp = await world.internal("/internal/qr/release", {"token": token})
        assert resp.status_code == 200 and resp.json() == {"released": True}
        assert (await world.internal("/internal/qr/release", {"token": token})).json() == {"released": False}
        assert (await world.internal("/internal/qr/consume", {"token": token})).json()["valid"] is True

    async def test_release_of_unconsumed_or_bad_token(self, world: World) -> None:
        headers, _ = await world.member()
        token = await world.qr(headers)
        assert (await world.internal("/internal/qr/release", {"token": token})).json() == {"released": False}
        assert (await world.internal("/internal/qr/release", {"token": "nonsense"})).json() == {"released": False}

    async def test_release_is_for_benefits_only(self, world: World) -> None:
        headers, _ = await world.member()
        token = await world.qr(headers)
        await world.internal("/internal/qr/consume", {"token": token})
        resp = await world.internal("/internal/qr/release", {"token": token}, caller="jobs")
        assert resp.status_code == 401
        assert (await world.internal("/internal/qr/consume", {"token": token})).json()["reason"] == "used"

    async def test_release_window_is_sixty_seconds(self, world: World) -> None:
        from datetime import UTC, datetime, timedelta

        from sqlalchemy import update

        from services.membership.qr.models import QrToken

        headers, _ = await world.member()
        token = await world.qr(headers)
        await world.internal("/internal/qr/consume", {"token": token})
        db = world.client._transport.app.state.db  # type: ignore[attr-defined]
        async with db.sessionmaker() as session:
            await session.execute(update(QrToken).values(used_at=datetime.now(UTC) - timedelta(seconds=61)))
            await session.commit()
        assert (await world.internal("/internal/qr/release", {"token": token})).json() == {"released": False}


async def test_oversized_body_is_413(world: World) -> None:
    resp = await world.client.post("/internal/qr/check", content=b'{"token":"' + b"a" * 2_000_000 + b'"}',
                                   headers={**service_headers(), "content-type": "application/json"})
    assert resp.status_code == 413


async def test_malformed_body_is_not_500(world: World) -> None:
    for body in (b"{", b"[]", b'{"token": 5}'):
        resp = await world.client.post("/internal/qr/check", content=body,
                                       headers={**service_headers(), "content-type": "application/json"})
        assert resp.status_code in (400, 422), resp.text

