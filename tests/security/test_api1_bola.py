"""API1:2023 Broken object level authorization — every object type, fetched, changed and listed
by someone it does not belong to: 404 (never 403, never the object), and never in their lists."""

from __future__ import annotations

import pytest

from tests.security.world import World


@pytest.fixture(scope="module")
def outsiders(world: World) -> dict[str, dict[str, str]]:
    """Another plain user, another member (same union!), and staff of the other city."""
    other_user, _ = world.phone_login()
    other_member, _, _ = world.new_member()
    return {"other_user": other_user, "other_member": other_member, "staff_out": world.headers["staff_out"]}


OBJECT_READS = [
    ("application", "GET", "/api/v1/membership/applications/{application}"),
    ("member", "GET", "/api/v1/membership/members/{member}"),
    ("transfer", "GET", "/api/v1/membership/transfers/{transfer}"),
    ("ticket", "GET", "/api/v1/legal/tickets/{ticket}"),
    ("messages", "GET", "/api/v1/legal/tickets/{ticket}/messages"),
    ("attachments", "GET", "/api/v1/legal/tickets/{ticket}/attachments"),
    ("attachment", "GET", "/api/v1/legal/attachments/{attachment}"),
    ("unpublished job", "GET", "/api/v1/jobs/{job_pending}"),
    ("merchant", "GET", "/api/v1/benefits/merchants/{merchant}"),
    ("merchant keys", "GET", "/api/v1/benefits/merchants/{merchant}/credentials"),
    ("merchant redemptions", "GET", "/api/v1/benefits/merchants/{merchant}/redemptions"),
]

OBJECT_WRITES = [
    ("message", "POST", "/api/v1/legal/tickets/{ticket}/messages", {"body": "我来插一句", "internal": False}),
    ("rating", "POST", "/api/v1/legal/tickets/{ticket}/rating", {"score": 1, "comment": "差"}),
    ("notification", "POST", "/api/v1/notifications/{notification}/read", None),
    ("job edit", "PATCH", "/api/v1/jobs/{job_pending}", {"title": "被篡改的职位"}),
    ("job close", "POST", "/api/v1/jobs/{job_pending}/close", {"reason": "withdrawn"}),
]


def _path(world: World, template: str) -> str:
    return template.format(**world.ids)


def _is_not_found(resp) -> bool:  # type: ignore[no-untyped-def]
    return resp.status_code == 404 and resp.json()["code"] in ("not_found", "not_a_member")


def test_reading_someone_elses_objects_is_404(world: World, outsiders: dict[str, dict[str, str]]) -> None:
    leaks = []
    for name, method, template in OBJECT_READS:
        staff_only = name in ("member", "merchant", "merchant keys", "merchant redemptions")
        for who, headers in outsiders.items():
            resp = world.gw.request(method, _path(world, template), headers=headers)
            world.answers.append((f"{method} {template}", resp.text))
            # Staff-only routes refuse non-staff with 403 before any lookup (nothing revealed).
            expected = {403} if staff_only and who != "staff_out" else {404}
            if resp.status_code not in expected or (resp.status_code == 404 and not _is_not_found(resp)):
                leaks.append(f"{name} as {who}: {resp.status_code} {resp.text[:120]}")
    assert not leaks, leaks


def test_an_unknown_id_and_someone_elses_id_answer_the_same(world: World,
                                                           outsiders: dict[str, dict[str, str]]) -> None:
    for template in ("/api/v1/legal/tickets/{}", "/api/v1/membership/applications/{}", "/api/v1/legal/attachments/{}"):
        mine = world.gw.get(template.format(world.ids["ticket"] if "tickets" in template else
                                            world.ids["application"] if "applications" in template
                                            else world.ids["attachment"]), headers=outsiders["other_member"])
        unknown = world.gw.get(template.format("0" * 32), headers=outsiders["other_member"])
        assert mine.status_code == unknown.status_code == 404
        assert mine.json()["code"] == unknown.json()["code"] and mine.json()["detail"] == unknown.json()["detail"]


def test_changing_someone_elses_objects_is_refused_and_changes_nothing(
        world: World, outsiders: dict[str, dict[str, str]]) -> None:
    before = world.ok(world.call("GET", f"/api/v1/jobs/{world.ids['job_pending']}", role="employer"))
    for name, method, template, body in OBJECT_WRITES:
        for who, headers in outsiders.items():
            resp = world.gw.request(method, _path(world, template), headers=headers, json=body)
            assert resp.status_code in (403, 404), f"{name} as {who}: {resp.status_code} {resp.text}"
    after = world.ok(world.call("GET", f"/api/v1/jobs/{world.ids['job_pending']}", role="employer"))
    assert (after["title"], after["status"]) == (before["title"], before["status"])
    messages = world.ok(world.call("GET", f"/api/v1/legal/tickets/{world.ids['ticket']}/messages", role="member"))
    assert all(m["body"] != "我来插一句" for m in messages["items"])


def test_lists_only_show_what_belongs_to_the_caller(world: World, outsiders: dict[str, dict[str, str]]) -> None:
    def ids_in(path: str, headers: dict[str, str]) -> set[str]:
        resp = world.gw.get(path, headers=headers)
        world.answers.append((f"GET {path}", resp.text))
        assert resp.status_code == 200, f"{path}: {resp.status_code} {resp.text}"
        return {str(item.get("id") or item.get("member_id")) for item in resp.json()["items"]}

    member_lists = {"/api/v1/membership/applications?limit=100": "application",
                    "/api/v1/legal/tickets?limit=100": "ticket",
                    "/api/v1/membership/transfers?limit=100": "transfer",
                    "/api/v1/notifications?limit=100": "notification",
                    "/api/v1/jobs/applications/mine?limit=100": "job_application"}
    for path, obj in member_lists.items():
        assert world.ids[obj] in ids_in(path, world.headers["member"] if obj != "transfer" else
                                        world.headers["staff_in"]), path  # the owner does see it
        for who in ("other_user", "other_member"):
            assert world.ids[obj] not in ids_in(path, outsiders[who]), f"{path} leaks to {who}"
    staff_lists = {"/api/v1/membership/members?limit=100": "member", "/api/v1/benefits/merchants?limit=100": "merchant",
                   "/api/v1/legal/tickets?limit=100": "ticket", "/api/v1/jobs/pending?limit=100": "job_pending",
                   "/api/v1/membership/applications?limit=100": "application_pending",
                   "/api/v1/membership/transfers?limit=100": "transfer"}
    for path, obj in staff_lists.items():
        assert world.ids[obj] not in ids_in(path, outsiders["staff_out"]), f"{path} leaks out of scope"


def test_redemptions_belong_to_their_member_and_their_merchant(world: World,
                                                               outsiders: dict[str, dict[str, str]]) -> None:
    resp = world.gw.get("/api/v1/benefits/redemptions/mine", headers=outsiders["other_member"])
    assert resp.status_code == 200 and world.ids["redemption"] not in resp.text
    assert world.ids["redemption"] in world.call("GET", "/api/v1/benefits/redemptions/mine", role="member").text
    # Another merchant (of the other city) with its own valid key.
    other = world.ok(world.call("POST", "/api/v1/benefits/merchants", role="staff_out", json={
        "name": "苏州松鹤楼", "category": "food", "address": "苏州市观前街", "lat": 31.31, "lng": 120.62}), 201)
    key = world.ok(world.call("POST", f"/api/v1/benefits/merchants/{other['id']}/credentials", role="staff_out"), 201)
    from tests.security.world import Pos

    pos = Pos(key["key_id"], key["secret"])
    listing = world.merchant_call("GET", "/api/v1/merchant/redemptions", pos=pos)
    assert listing.status_code == 200 and world.ids["redemption"] not in listing.text
    # It cannot redeem this merchant's offer, and the member's QR code is not consumed by trying.
    qr = world.qr("member")
    resp = world.redeem(qr, pos=pos)
    assert resp.status_code == 403 and resp.json()["code"] == "offer_not_owned"
    assert world.redeem(qr).status_code == 201
    # Nor manage this merchant's keys (staff of the other city).
    resp = world.call("DELETE", f"/api/v1/benefits/merchants/{world.ids['merchant']}/credentials/{world.ids['key']}",
                      role="staff_out")
    assert resp.status_code == 404
    assert world.merchant_call("GET", "/api/v1/merchant/redemptions?limit=1").status_code == 200


def test_job_applicants_are_seen_by_the_poster_only(world: World) -> None:
    other_employer = world.fresh_headers("employer")
    resp = world.gw.get(f"/api/v1/jobs/{world.ids['job']}/applications", headers=other_employer)
    assert resp.status_code in (403, 404) and world.ids["job_application"] not in resp.text
    resp = world.call("GET", f"/api/v1/jobs/{world.ids['job']}/applications", role="employer")
    assert resp.status_code == 200 and world.ids["job_application"] in resp.text
