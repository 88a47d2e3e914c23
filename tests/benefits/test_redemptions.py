"""Redemption through the signed merchant API against the real membership service."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta

import httpx

from services.common.internal_auth import ServiceSigner
from tests.apps import TEST_INTERNAL_SECRET
from tests.benefits.conftest import Pos, World

REDEEM = "/api/v1/merchant/redemptions"


async def shop(world: World, **offer: object) -> tuple[Pos, dict]:
    m = await world.merchant()
    return await world.pos(m["id"]), await world.offer(m["id"], **offer)


def code(resp: httpx.Response) -> str:
    return str(resp.json().get("code"))


class TestVerify:
    async def test_valid_code_shows_masked_member_and_is_not_consumed(self, world: World) -> None:
        pos, _ = await shop(world)
        user, _ = await world.member()
        token = await world.qr(user)
        for _ in range(2):
            resp = await pos.verify(token)
            assert resp.status_code == 200, resp.text
            body = resp.json()
            assert body["valid"] is True and body["reason"] is None
            assert body["member"]["name_masked"] == "张**" and body["member"]["org_name"] == "广州地铁集团工会"
            assert "*" in body["member"]["card_no_masked"]
            assert set(body["member"]) == {"name_masked", "card_no_masked", "org_name"}

    async def test_invalid_and_used(self, world: World) -> None:
        pos, offer = await shop(world)
        assert (await pos.verify("garbage")).json()["reason"] == "invalid"
        user, _ = await world.member()
        token = await world.qr(user)
        assert (await pos.redeem(token, offer["id"], 1000)).status_code == 201
        assert (await pos.verify(token)).json()["reason"] == "used"


class TestRedeem:
    async def test_happy_path_discount_histories_and_statement(self, world: World) -> None:
        pos, offer = await shop(world, discount_type="percent_off", value=15, max_discount_fen=1000)
        user, _ = await world.member()
        resp = await pos.redeem(await world.qr(user), offer["id"], 3333)
        assert resp.status_code == 201, resp.text
        r = resp.json()
        assert (r["discount_fen"], r["payable_fen"]) == (499, 2834)  # ⌊3333 × 15 / 100⌋ = 499
        resp = await pos.redeem(await world.qr(user), offer["id"], 10_000)
        assert (resp.json()["discount_fen"], resp.json()["payable_fen"]) == (1000, 9000)  # capped

        mine = await world.benefits.get("/api/v1/benefits/redemptions/mine", headers=user)
        assert mine.status_code == 200
        assert [x["id"] for x in mine.json()["items"]][1] == r["id"]
        assert mine.json()["items"][0]["merchant_name"] == "陶陶居酒家"
        listing = await pos.request("GET", REDEEM)
        assert [x["discount_fen"] for x in listing.json()["items"]] == [1000, 499]  # newest first
        today = datetime.now(UTC).astimezone().date().isoformat()
        day = (datetime.now(UTC) + timedelta(hours=8)).date()
        target = f"/api/v1/merchant/statement?from={(day - timedelta(days=1)).isoformat()}&to={day.isoformat()}"
        stmt = await pos.request("GET", target)
        assert stmt.status_code == 200, stmt.text
        s = stmt.json()
        assert (s["count"], s["order_total_fen"], s["discount_total_fen"], s["payable_total_fen"]) == (
            2, 13_333, 1499, 11_834)
        assert s["from"] and s["to"] == day.isoformat() and s["offers"][0]["offer_id"] == offer["id"]
        assert today
        staff = await world.benefits.get(f"/api/v1/benefits/merchants/{offer['merchant_id']}/redemptions",
                                         headers=world.staff["guangzhou"])
        assert len(staff.json()["items"]) == 2
        other = await world.benefits.get(f"/api/v1/benefits/merchants/{offer['merchant_id']}/redemptions",
                                         headers=world.staff["shenzhen"])
        assert other.status_code == 404

    async def test_amount_off(self, world: World) -> None:
        pos, offer = await shop(world, discount_type="amount_off", value=2000)
        user, _ = await world.member()
        resp = await pos.redeem(await world.qr(user), offer["id"], 1500)
        assert (resp.json()["discount_fen"], resp.json()["payable_fen"]) == (1500, 0)

    async def test_idempotency(self, world: World) -> None:
        pos, offer = await shop(world)
        user, _ = await world.member()
        token = await world.qr(user)
        first = await pos.redeem(token, offer["id"], 1000, key="order-42")
        again = await pos.redeem(token, offer["id"], 1000, key="order-42")
        assert first.status_code == again.status_code == 201
        assert first.json() == again.json() and again.headers.get("idempotent-replayed") == "true"
        other = await pos.redeem(token, offer["id"], 2000, key="order-42")
        assert other.status_code == 422 and code(other) == "idempotency_key_mismatch"
        # keys are scoped to the merchant: another merchant may use the same key
        pos2, offer2 = await shop(world)
        resp = await pos2.redeem(await world.qr(user), offer2["id"], 1000, key="order-42")
        assert resp.status_code == 201
        listing = await pos.request("GET", REDEEM)
        assert len(listing.json()["items"]) == 1

    async def test_idempotency_key_required_after_signature(self, world: World) -> None:
        pos, offer = await shop(world)
        body = {"qr_token": "x", "offer_id": offer["id"], "order_amount_fen": 100}
        resp = await pos.request("POST", REDEEM, body)
        assert resp.status_code == 400 and code(resp) == "idempotency_key_required"
        resp = await pos.request("POST", REDEEM, body, headers={"Idempotency-Key": "k" * 256})
        assert code(resp) == "idempotency_key_required"
        resp = await world.benefits.post(REDEEM, json=body)
        assert resp.status_code == 401

    async def test_refusals_before_consuming_keep_the_code_alive(self, world: World) -> None:
        pos, offer = await shop(world, min_spend_fen=5000)
        user, _ = await world.member()
        token = await world.qr(user)
        resp = await pos.redeem(token, offer["id"], 4999)
        assert resp.status_code == 422 and code(resp) == "min_spend_not_met"
        other_pos, other_offer = await shop(world)
        resp = await pos.redeem(token, other_offer["id"], 6000)
        assert resp.status_code == 403 and code(resp) == "offer_not_owned"
        resp = await pos.redeem(token, "no-such-offer", 6000)
        assert resp.status_code == 403 and code(resp) == "offer_not_owned"
        assert (await pos.verify(token)).json()["valid"] is True
        assert (await pos.redeem(token, offer["id"], 5000)).status_code == 201
        resp = await pos.redeem(token, offer["id"], 5000)
        assert resp.status_code == 409 and code(resp) == "qr_token_used"
        assert other_pos

    async def test_offer_not_active(self, world: World) -> None:
        now = datetime.now(UTC)
        pos, offer = await shop(world, starts_at=(now + timedelta(hours=1)).isoformat(),
                                ends_at=(now + timedelta(days=1)).isoformat())
        user, _ = await world.member()
        resp = await pos.redeem(await world.qr(user), offer["id"], 1000)
        assert resp.status_code == 409 and code(resp) == "offer_not_active"

    async def test_invalid_token(self, world: World) -> None:
        pos, offer = await shop(world)
        resp = await pos.redeem("forged-token", offer["id"], 1000)
        assert resp.status_code == 422 and code(resp) == "qr_token_invalid"

    async def test_suspended_member(self, world: World) -> None:
        pos, offer = await shop(world)
        user, member_id = await world.member()
        token = await world.qr(user)
        resp = await world.membership.post(f"/api/v1/membership/members/{member_id}/suspend",
                                           json={"reason": "会籍审核"}, headers=world.admin)
        assert resp.status_code == 200, resp.text
        resp = await pos.redeem(token, offer["id"], 1000)
        assert resp.status_code == 403 and code(resp) == "member_not_active"
        assert (await pos.verify(token)).json()["reason"] == "suspended"

    async def test_eligibility_by_org_subtree(self, world: World) -> None:
        pos, offer = await shop(world, eligible_org_id=world.orgs["guangzhou"])
        outsider, _ = await world.member("sz_port")
        resp = await pos.redeem(await world.qr(outsider), offer["id"], 1000)
        assert resp.status_code == 403 and code(resp) == "not_eligible"
        insider, _ = await world.member("gz_metro")  # below guangzhou
        assert (await pos.redeem(await world.qr(insider), offer["id"], 1000)).status_code == 201

    async def test_daily_limit_and_quota_sequential(self, world: World) -> None:
        pos, offer = await shop(world, per_member_limit=2, limit_period="day", total_quota=3)
        a, _ = await world.member()
        b, _ = await world.member()
        assert (await pos.redeem(await world.qr(a), offer["id"], 1000)).status_code == 201
        assert (await pos.redeem(await world.qr(a), offer["id"], 1000)).status_code == 201
        token = await world.qr(a)
        resp = await pos.redeem(token, offer["id"], 1000)
        assert resp.status_code == 409 and code(resp) == "limit_reached"
        assert (await pos.verify(token)).json()["valid"] is True
        assert (await pos.redeem(await world.qr(b), offer["id"], 1000)).status_code == 201
        resp = await pos.redeem(await world.qr(b), offer["id"], 1000)
        assert resp.status_code == 409 and code(resp) == "quota_exhausted"
        got = await world.benefits.get(f"/api/v1/benefits/offers/{offer['id']}", headers=user_headers(world))
        assert got.json()["remaining_quota"] == 0

    async def test_mine_for_non_member(self, world: World) -> None:
        resp = await world.benefits.get("/api/v1/benefits/redemptions/mine", headers=world.tokens.headers())
        assert resp.status_code == 404 and code(resp) == "not_a_member"


def user_headers(world: World) -> dict[str, str]:
    return world.tokens.headers()


class TestConcurrency:
    async def test_same_code_different_keys_succeeds_once(self, world: World) -> None:
        pos, offer = await shop(world)
        user, _ = await world.member()
        token = await world.qr(user)
        results = await asyncio.gather(*(pos.redeem(token, offer["id"], 1000) for _ in range(8)))
        codes = sorted(r.status_code for r in results)
        assert codes == [201] + [409] * 7, [r.text for r in results]
        assert {code(r) for r in results if r.status_code == 409} == {"qr_token_used"}
        assert len((await pos.request("GET", REDEEM)).json()["items"]) == 1

    async def test_same_key_concurrently_one_redemption_same_answer(self, world: World) -> None:
        pos, offer = await shop(world)
        user, _ = await world.member()
        token = await world.qr(user)
        results = await asyncio.gather(*(pos.redeem(token, offer["id"], 1000, key="dup") for _ in range(6)))
        assert all(r.status_code == 201 for r in results), [r.text for r in results]
        assert len({r.json()["id"] for r in results}) == 1
        assert len((await pos.request("GET", REDEEM)).json()["items"]) == 1

    async def test_quota_n_raced_by_3n_members(self, world: World) -> None:
        n = 4
        pos, offer = await shop(world, total_quota=n, per_member_limit=1, limit_period="total")
        tokens = []
        for _ in range(3 * n):
            user, _ = await world.member()
            tokens.append(await world.qr(user))
        results = await asyncio.gather(*(pos.redeem(t, offer["id"], 1000) for t in tokens))
        ok = [r for r in results if r.status_code == 201]
        assert len(ok) == n, [r.text for r in results]
        assert {code(r) for r in results if r.status_code != 201} == {"quota_exhausted"}
        # the losers' codes were never spent (or were released): each still verifies
        losers = [t for t, r in zip(tokens, results, strict=True) if r.status_code != 201]
        assert [(await pos.verify(t)).json()["valid"] for t in losers] == [True] * len(losers)
        got = await world.benefits.get(f"/api/v1/benefits/offers/{offer['id']}", headers=user_headers(world))
        assert got.json()["remaining_quota"] == 0

    async def test_daily_limit_one_raced(self, world: World) -> None:
        pos, offer = await shop(world, per_member_limit=1, limit_period="day")
        user, _ = await world.member()
        tokens = [await world.qr(user) for _ in range(6)]
        results = await asyncio.gather(*(pos.redeem(t, offer["id"], 1000) for t in tokens))
        assert sorted(r.status_code for r in results) == [201] + [409] * 5, [r.text for r in results]
        assert {code(r) for r in results if r.status_code != 201} == {"limit_reached"}
        losers = [t for t, r in zip(tokens, results, strict=True) if r.status_code != 201]
        assert [(await pos.verify(t)).json()["valid"] for t in losers] == [True] * len(losers)


class TestAccountDeletion:
    async def test_redemptions_keep_amounts_but_lose_the_person(self, world: World) -> None:
        pos, offer = await shop(world)
        user, _ = await world.member()
        account_id = _account_of(world, user)
        assert (await pos.redeem(await world.qr(user), offer["id"], 1234)).status_code == 201
        event = {"id": secrets.token_hex(8), "topic": "account.closed", "payload": {"account_id": account_id}}
        headers = {"x-service-token": ServiceSigner(TEST_INTERNAL_SECRET, "identity").token_for("benefits")}
        for _ in range(2):  # delivered at least once
            resp = await world.benefits.post("/internal/events", json=event, headers=headers)
            assert resp.status_code == 200 and resp.json() == {"status": "ok"}
        item = (await pos.request("GET", REDEEM)).json()["items"][0]
        assert item["order_amount_fen"] == 1234 and item["card_no_masked"] is None
        async with world.app.state.db.engine.connect() as conn:
            from sqlalchemy import text

            row = (await conn.execute(text("SELECT member_id, account_id FROM redemptions"))).one()
            assert tuple(row) == (None, None)
        resp = await world.benefits.post("/internal/events", json={**event, "topic": "other"}, headers=headers)
        assert resp.json() == {"status": "ignored"}
        resp = await world.benefits.post("/internal/events", json=event)
        assert resp.status_code == 401


def _account_of(world: World, headers: dict[str, str]) -> str:
    import jwt

    return str(jwt.decode(headers["authorization"].split()[1], options={"verify_signature": False})["sub"])
