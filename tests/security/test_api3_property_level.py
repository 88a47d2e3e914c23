"""API3:2023 Broken object property level authorization — mass assignment on every write (fields
the caller must not set are refused or ignored, never applied) and no hidden properties in any
answer (encrypted blobs, hashes, secrets, session keys, plaintext personal data)."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.security.matrix import build_body, load_matrix, resolve_path
from tests.security.world import World

# Properties a caller might try to set on any object.
INJECTED: dict[str, Any] = {
    "id": "injected-id-0001", "status": "approved", "member_id": "injected-member", "account_id": "injected-acct",
    "owner_id": "injected-owner", "poster_id": "injected-poster", "assignee_id": "injected-lawyer",
    "roles": ["admin"], "created_at": "2000-01-01T00:00:00+00:00", "verified": True, "overdue": False,
    "published_at": "2000-01-01T00:00:00+00:00", "card_no": "00000001", "secret_hash": "x", "is_admin": True,
}
FORBIDDEN_KEYS = re.compile(r"(_enc$|_hash$|^password|secret|session_key|^code_hash|private|_ciphertext$|^nonce$)")


def _walk(value: Any, path: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for k, v in value.items():
            out.append((f"{path}.{k}", v))
            out += _walk(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _walk(v, f"{path}[{i}]")
    return out


def _first_allowed(row: Any) -> str | None:
    for role in ("member", "user", "employer", "staff_in", "admin", "lawyer"):
        if row.expect[role] == "allow":
            return role
    return None


def test_mass_assignment_on_every_write_is_refused_or_ignored(world: World) -> None:
    applied = []
    tried = 0
    for row in load_matrix():
        if row.method not in ("POST", "PATCH") or row.body in ("", "multipart") or "/auth/" in row.path:
            continue
        role = _first_allowed(row)
        if role is None:
            continue
        body = build_body(row, world, role)
        if not isinstance(body, dict):
            continue
        tried += 1
        resp = world.call(row.method, resolve_path(row, world, role), role=role, json={**body, **INJECTED})
        assert resp.status_code < 500, f"{row.key}: {resp.status_code}"
        if resp.status_code >= 300:
            continue  # refused (422 validation_error for unknown fields)
        answer = resp.json()
        for key, value in _walk(answer):
            name = key.rsplit(".", 1)[-1]
            if name in INJECTED and value == INJECTED[name]:
                applied.append(f"{row.key}: {key} = {value!r}")
    assert tried >= 20, tried
    assert not applied, applied


def test_auth_bodies_ignore_extra_fields(world: World) -> None:
    resp = world.call("POST", "/api/v1/auth/sms/login", json={"phone": world.next_phone(), "code": "246810",
                                                               "roles": ["admin"], "org_id": world.ids["root"]})
    assert resp.status_code in (200, 422)
    if resp.status_code == 200:
        me = world.ok(world.gw.get("/api/v1/me", headers={"authorization": f"Bearer {resp.json()['access_token']}"}))
        assert me["roles"] == [] or "admin" not in me["roles"]
        assert me["org_id"] is None


def test_staff_cannot_place_objects_outside_their_subtree(world: World) -> None:
    """`org_id` in a body is a real field for some writes: staff may only aim it inside their own
    subtree (admin anywhere)."""
    outside = world.ids["city_b"]
    resp = world.call("POST", "/api/v1/benefits/merchants", role="staff_in", json={
        "name": "越权商户", "category": "food", "address": "苏州", "lat": 31.3, "lng": 120.6, "org_id": outside})
    assert resp.status_code in (403, 404, 422) or resp.json()["org_id"] != outside, resp.text
    resp = world.call("POST", "/api/v1/jobs", role="staff_in", json=world.job_body(org_id=outside))
    assert resp.status_code in (403, 404, 422) or resp.json()["org_id"] != outside, resp.text
    resp = world.call("POST", "/api/v1/jobs", role="employer", json=world.job_body(org_id=outside))
    assert resp.status_code in (403, 404, 422) or resp.json()["org_id"] != outside, resp.text
    resp = world.call("POST", "/api/v1/benefits/offers", role="staff_in",
                      json=world.offer_body(eligible_org_id=outside))
    assert resp.status_code < 500
    resp = world.call("POST", "/api/v1/orgs", role="staff_in", json={"name": "越权下级工会", "parent_id": outside})
    assert resp.status_code in (403, 404)
    # Only staff and lawyers post internal notes; the owner never sees them.
    resp = world.call("POST", f"/api/v1/legal/tickets/{world.ids['ticket']}/messages", role="member",
                      json={"body": "假装内部备注", "internal": True})
    assert resp.status_code in (403, 422) or resp.json().get("internal") is False, resp.text
    world.ok(world.call("POST", f"/api/v1/legal/tickets/{world.ids['ticket']}/messages", role="lawyer",
                        json={"body": "内部备注：证据不足", "internal": True}), 201)
    owner_view = world.ok(world.call("GET", f"/api/v1/legal/tickets/{world.ids['ticket']}/messages?limit=100",
                                     role="member"))
    assert all("证据不足" not in m["body"] for m in owner_view["items"])


def test_no_answer_carries_hidden_properties(world: World) -> None:
    # Make sure every kind of answer is in the sample: every GET of the matrix as admin and owner.
    for row in load_matrix():
        if row.method == "GET":
            for role in ("admin", "member", "staff_in", "employer"):
                if row.expect[role] == "allow":
                    world.call("GET", resolve_path(row, world, role), role=role)
    world.merchant_call("GET", "/api/v1/merchant/redemptions")
    world.merchant_call("POST", "/api/v1/merchant/verify", {"qr_token": world.qr("member")})
    found = []
    for line, text in world.answers:
        if not text.startswith(("{", "[")):
            continue
        try:
            answer = json.loads(text)
        except ValueError:
            continue
        for key, _value in _walk(answer):
            name = key.rsplit(".", 1)[-1].lower()
            # The one-time credential answer carries the merchant's secret, by contract.
            if line.startswith("POST") and line.endswith("/credentials") and name == "secret":
                continue
            if FORBIDDEN_KEYS.search(name):
                found.append(f"{line}: {key}")
    assert len(world.answers) > 150
    assert not found, sorted(set(found))[:20]


def test_answers_mask_personal_data(world: World) -> None:
    leaks = [(line, value) for line, text in world.answers
             for value in (*world.phones_used, *world.id_numbers_used) if value in text]
    assert not leaks, leaks[:10]
    me = world.ok(world.call("GET", "/api/v1/membership/me", role="member"))
    assert re.fullmatch(r"\d{6}\*{8}\d{3}[\dX]", me["id_number_masked"]), me["id_number_masked"]
    assert re.fullmatch(r"欧阳\*+", me["real_name_masked"]), me["real_name_masked"]
    assert re.fullmatch(r"1\d\d\*{4}\d{4}", world.ok(world.call("GET", "/api/v1/me", role="member"))["phone_masked"])
