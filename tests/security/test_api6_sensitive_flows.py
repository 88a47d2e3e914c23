"""API6:2023 Unrestricted access to sensitive business flows — a QR code redeems once, bursts of
concurrent redemptions never exceed a per-member limit or an offer's quota, signed merchant
requests cannot be replayed, and idempotency keys replay answers, never effects."""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.security.world import World


def test_a_qr_code_redeems_once(world: World) -> None:
    qr = world.qr("member")
    assert world.merchant_call("POST", "/api/v1/merchant/verify", {"qr_token": qr}).json()["valid"] is True
    assert world.redeem(qr).status_code == 201
    replay = world.redeem(qr)
    assert replay.status_code == 409 and replay.json()["code"] == "qr_token_used"
    assert world.merchant_call("POST", "/api/v1/merchant/verify", {"qr_token": qr}).json()["reason"] == "used"
    # A forged or truncated code is refused, not a 500.
    for bad in (qr[:-2], qr + "x", "x" * 64, ""):
        resp = world.redeem(bad)
        assert resp.status_code in (409, 422), f"{bad!r}: {resp.status_code}"


def _burst(world: World, calls: list[tuple[str, str]]) -> list[httpx.Response]:
    """Many redemptions at once, each from its own connection."""
    def one(call: tuple[str, str]) -> httpx.Response:
        qr, offer = call
        body = {"qr_token": qr, "offer_id": world.ids[offer], "order_amount_fen": 5000}
        import json

        raw = json.dumps(body).encode()
        assert world.pos is not None
        headers = {**world.pos.headers("POST", "/api/v1/merchant/redemptions", raw),
                   "content-type": "application/json", "Idempotency-Key": secrets.token_hex(8)}
        return httpx.post(f"{world.stack.gateway}/api/v1/merchant/redemptions", content=raw, headers=headers,
                          timeout=30)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(one, calls))


def test_a_burst_never_exceeds_the_per_member_limit(world: World) -> None:
    world.ids["offer_once"] = world.ok(world.call("POST", "/api/v1/benefits/offers", role="staff_in",
                                                  json=world.offer_body(per_member_limit=1, limit_period="day")),
                                       201)["id"]
    member, _, _ = world.new_member()
    answers = _burst(world, [(world.qr(member), "offer_once") for _ in range(8)])
    codes = sorted(r.status_code for r in answers)
    assert codes == [201] + [409] * 7, [(r.status_code, r.text[:80]) for r in answers]
    assert {r.json()["code"] for r in answers if r.status_code == 409} == {"limit_reached"}
    mine = world.ok(world.gw.get("/api/v1/benefits/redemptions/mine?limit=100", headers=member))["items"]
    assert len([m for m in mine if m["offer_id"] == world.ids["offer_once"]]) == 1


def test_a_burst_never_exceeds_the_quota(world: World) -> None:
    world.ids["offer_quota"] = world.ok(world.call("POST", "/api/v1/benefits/offers", role="staff_in",
                                                   json=world.offer_body(total_quota=3)), 201)["id"]
    members = [world.new_member()[0] for _ in range(6)]
    answers = _burst(world, [(world.qr(m), "offer_quota") for m in members])
    codes = sorted(r.status_code for r in answers)
    assert codes == [201] * 3 + [409] * 3, [(r.status_code, r.text[:80]) for r in answers]
    assert {r.json()["code"] for r in answers if r.status_code == 409} == {"quota_exhausted"}


def test_signed_requests_cannot_be_replayed_or_altered(world: World) -> None:
    assert world.pos is not None
    raw = b'{"qr_token": "x"}'
    headers = {**world.pos.headers("POST", "/api/v1/merchant/verify", raw), "content-type": "application/json"}
    assert world.gw.post("/api/v1/merchant/verify", content=raw, headers=headers).status_code == 200
    replay = world.gw.post("/api/v1/merchant/verify", content=raw, headers=headers)
    assert replay.status_code == 401 and replay.json()["code"] == "nonce_reused"
    fresh = world.pos.headers("POST", "/api/v1/merchant/verify", raw)
    altered = world.gw.post("/api/v1/merchant/verify", content=b'{"qr_token": "y"}',
                            headers={**fresh, "content-type": "application/json"})
    assert altered.status_code == 401 and altered.json()["code"] == "signature_invalid"
    old = world.pos.headers("POST", "/api/v1/merchant/verify", raw)
    old["X-Timestamp"] = str(int(old["X-Timestamp"]) - 301)
    resp = world.gw.post("/api/v1/merchant/verify", content=raw, headers={**old, "content-type": "application/json"})
    assert resp.status_code == 401 and resp.json()["code"] in ("timestamp_skew", "signature_invalid")
    # A revoked key stops at once.
    pos = world.new_key()
    assert world.merchant_call("GET", "/api/v1/merchant/redemptions", pos=pos).status_code == 200
    world.ok(world.call("DELETE", f"/api/v1/benefits/merchants/{world.ids['merchant']}/credentials/{pos.key_id}",
                        role="staff_in"), 204)
    resp = world.merchant_call("GET", "/api/v1/merchant/redemptions", pos=pos)
    assert resp.status_code == 401 and resp.json()["code"] == "unknown_merchant_key"


def test_idempotency_replays_the_answer_never_the_effect(world: World) -> None:
    qr, key = world.qr("member"), secrets.token_hex(8)
    first = world.redeem(qr, key=key)
    assert first.status_code == 201
    again = world.redeem(qr, key=key)
    assert again.status_code == 201 and again.json() == first.json()
    other = world.redeem(qr, key=key, amount=99999)
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_mismatch"
    listing = world.merchant_call("GET", "/api/v1/merchant/redemptions?limit=100").json()["items"]
    assert [r["id"] for r in listing].count(first.json()["id"]) == 1
    resp = world.merchant_call("POST", "/api/v1/merchant/redemptions",
                               {"qr_token": world.qr("member"), "offer_id": world.ids["offer"],
                                "order_amount_fen": 100})
    assert resp.status_code == 400 and resp.json()["code"] == "idempotency_key_required"
