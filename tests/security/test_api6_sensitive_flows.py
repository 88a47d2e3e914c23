"""API6:2023 Unrestricted access to sensitive business flows — a QR code redeems once, bursts of
concurrent redemptions never exceed a per-member limit or an offer's quota, signed merchant
requests cannot be replayed, idempotency keys replay answers, never effects, and every one-way
state change (review, close, approve, suspend, close the account, rate, apply…) fired many times
at once happens once."""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor
from typing import Any

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


def _once_races(world: World, n: int) -> dict[str, tuple[list[tuple[str, str, dict[str, str], Any]], int]]:
    """Name → (the same one-way change n times, the status of the one call that may succeed)."""
    w, staff, admin = world, world.headers["staff_in"], world.headers["admin"]
    races: dict[str, tuple[list[tuple[str, str, dict[str, str], Any]], int]] = {}
    job = w.ok(w.call("POST", "/api/v1/jobs", role="employer", json=w.job_body()), 201)["id"]
    races["review a job"] = ([("POST", f"/api/v1/jobs/{job}/review", staff,
                               {"decision": ("approve", "reject")[i % 2], "reason": "审核"}) for i in range(n)], 200)
    job = w.ok(w.call("POST", "/api/v1/jobs", role="employer", json=w.job_body()), 201)["id"]
    races["close a job"] = ([("POST", f"/api/v1/jobs/{job}/close", w.headers["employer"], {"reason": "filled"})] * n,
                            200)
    applicant, _, _ = w.new_member()
    races["apply to a job"] = ([("POST", f"/api/v1/jobs/{w.ids['job']}/applications", applicant,
                                 {"message": "应聘"})] * n, 201)
    closing, _ = w.phone_login()
    races["close one's account"] = ([("DELETE", "/api/v1/me", closing, None)] * n, 202)
    _, pair = w.phone_login()
    races["refresh a token"] = ([("POST", "/api/v1/auth/refresh", {}, {"refresh_token": pair["refresh_token"]})] * n,
                                200)
    username = "sec-race-" + secrets.token_hex(3)
    races["create an account"] = ([("POST", "/api/v1/admin/accounts", admin, {
        "username": username, "password": "race-password-0", "display_name": "x", "roles": ["staff"],
        "org_id": w.ids["city_a"]})] * n, 201)
    user, _ = w.phone_login()
    body = {"real_name": "欧阳小明", "id_number": w.next_id_number(), "org_id": w.ids["ws_a"],
            "employer_name": "南京地铁"}
    races["apply for membership"] = ([("POST", "/api/v1/membership/applications", user, body)] * n, 201)
    application = w.apply(w.phone_login()[0], w.ids["ws_a"])["id"]
    races["approve an application"] = ([("POST", f"/api/v1/membership/applications/{application}/approve",
                                         (staff, admin)[i % 2], None) for i in range(n)], 200)
    _, member_id, _ = w.new_member()
    races["suspend a member"] = ([("POST", f"/api/v1/membership/members/{member_id}/suspend", staff,
                                   {"reason": "会费欠缴"})] * n, 200)
    mover, _, _ = w.new_member()
    transfer = w.ok(w.gw.post("/api/v1/membership/transfers", headers=mover,
                              json={"to_org_id": w.ids["ws_a2"], "reason": "工作调动"}), 201)["id"]
    races["approve a transfer"] = ([("POST", f"/api/v1/membership/transfers/{transfer}/approve", staff, None)] * n,
                                   200)
    owner, _, _ = w.new_member()
    ticket = w.ok(w.gw.post("/api/v1/legal/tickets", headers=owner, json=w.ticket_body()), 201)["id"]
    races["accept a ticket"] = ([("POST", f"/api/v1/legal/tickets/{ticket}/actions", staff,
                                  {"action": "accept", "note": "受理"})] * n, 200)
    rated = w.ok(w.gw.post("/api/v1/legal/tickets", headers=owner, json=w.ticket_body()), 201)["id"]
    for action in ("accept", "resolve"):
        w.ok(w.call("POST", f"/api/v1/legal/tickets/{rated}/actions", role="staff_in",
                    json={"action": action, "note": "处理"}))
    races["rate a ticket"] = ([("POST", f"/api/v1/legal/tickets/{rated}/rating", owner,
                                {"score": 5, "comment": "满意"})] * n, 201)
    return races


def test_a_one_way_change_fired_at_once_happens_once(world: World) -> None:
    """On PostgreSQL concurrent reviews and closes of a job, and concurrent DELETE /me, used to all
    succeed (each saw the old state); SQLite serialised them."""
    wrong = []
    for name, (calls, status) in _once_races(world, 8).items():
        answers = world.burst(calls)
        codes = sorted(r.status_code for r in answers)
        if codes.count(status) != 1 or not all(400 <= c < 500 for c in codes if c != status):
            wrong.append(f"{name}: {codes}")
        if name == "review a job":
            winner = next(r for r in answers if r.status_code == 200).json()
            job = world.ok(world.call("GET", f"/api/v1/jobs/{winner['id']}", role="employer"))
            assert job["status"] == winner["status"], "the decision in force is not the one answered 200"
    assert not wrong, wrong
