"""Events between services on real processes (SQLite, the way `make run` runs):

- notifications reach the member's inbox even when identity was down when the fact happened —
  at least once on the wire, exactly once in the inbox;
- closing an account erases that person's data in every service: afterwards no database file,
  no write-ahead log and no attachment holds the phone, ID number, real name or case text, and the
  rows that held them (encrypted) are erased or anonymised.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.benefits.merchant_api.signing import signed_headers
from services.common.crypto import load_pii_cipher
from tests.backends import redis_url
from tests.stack import Stack, running_stack

ADMIN = ("ev-admin", "ev-admin-password-1")
PASSWORD = "ev-password-12345"
CODE = "864209"
INBOX_PHONE = "13511112222"
ERASE_PHONE = "13533334444"
ERASE_NAME = "欧阳春晓"
CASE_TEXT = "东莞市塘厦镇某电子厂拖欠我加班费共计一万七千三百元"
MESSAGE_TEXT = "补充说明我的工号是DG-77615并附上考勤记录"
JOB_MESSAGE = "本人有十二年地铁供电维护经验联系我"


def id_number(first17: str) -> str:
    from services.membership.applications.idcard import check_character

    return first17 + check_character(first17)


@pytest.fixture(scope="module", params=["http", "redis"])
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The same scenarios with events pushed over HTTP (the laptop default) and through Redis
    Streams (production's transport)."""
    env = {"SMS_TEST_CODES": f"{INBOX_PHONE}:{CODE},{ERASE_PHONE}:{CODE}",
           "BOOTSTRAP_ADMIN_USERNAME": ADMIN[0], "BOOTSTRAP_ADMIN_PASSWORD": ADMIN[1],
           "SMARTUNION_EVENTS_TRANSPORT": request.param}
    if request.param == "redis":
        url = redis_url()
        if url is None:
            pytest.skip("Redis unreachable (TEST_REDIS_URL): events over Redis Streams not tested")
        env["REDIS_URL"] = url
    # Relays pass often, so the test waits for delivery in fractions of a second.
    env.update({f"{svc}_OUTBOX_INTERVAL": "0.3" for svc in ("IDENTITY", "MEMBERSHIP", "LEGAL_AID", "JOBS")})
    with running_stack(tmp_path_factory.mktemp("events"), env) as s:
        yield s


def bearer(resp: httpx.Response) -> dict[str, str]:
    assert resp.status_code == 200, resp.text
    return {"authorization": f"Bearer {resp.json()['access_token']}"}


def ok(resp: httpx.Response, status: int = 200) -> Any:
    assert resp.status_code == status, resp.text
    return resp.json() if resp.content else None


@pytest.fixture(scope="module")
def world(stack: Stack) -> dict[str, Any]:
    """An org tree, a city's staff, lawyer and employer; a merchant with an offer and a key."""
    with httpx.Client(base_url=stack.gateway, timeout=20) as gw:
        admin = bearer(gw.post("/api/v1/auth/password/login", json={"username": ADMIN[0], "password": ADMIN[1]}))
        orgs: dict[str, str] = {}
        for key, name, parent in (("root", "全国总工会(ev)", None), ("city", "东莞市总工会(ev)", "root"),
                                  ("work", "东莞电子厂工会(ev)", "city")):
            orgs[key] = ok(gw.post("/api/v1/orgs", json={"name": name, "parent_id": orgs.get(parent or "")},
                                   headers=admin), 201)["id"]
        people: dict[str, dict[str, str]] = {"admin": admin}
        for username, role in (("ev-staff", "staff"), ("ev-lawyer", "lawyer"), ("ev-hr", "employer")):
            ok(gw.post("/api/v1/admin/accounts", headers=admin, json={
                "username": username, "password": PASSWORD, "display_name": username, "roles": [role],
                "org_id": orgs["city" if role != "employer" else "work"]}), 201)
            people[role] = bearer(gw.post("/api/v1/auth/password/login",
                                          json={"username": username, "password": PASSWORD}))
        lawyer_id = ok(gw.get("/api/v1/me", headers=people["lawyer"]))["id"]
        merchant = ok(gw.post("/api/v1/benefits/merchants", headers=people["staff"], json={
            "name": "塘厦职工餐厅", "category": "food", "address": "东莞市塘厦镇", "lat": 22.8, "lng": 114.1,
            "phone": "076987654321"}), 201)
        key = ok(gw.post(f"/api/v1/benefits/merchants/{merchant['id']}/credentials", headers=people["staff"]), 201)
        offer = ok(gw.post("/api/v1/benefits/offers", headers=people["staff"], json={
            "merchant_id": merchant["id"], "title": "工会会员九折", "description": "堂食九折",
            "discount_type": "percent_off", "value": 10, "min_spend_fen": 0, "max_discount_fen": None,
            "per_member_limit": 5, "limit_period": "day", "total_quota": None, "eligible_org_id": None,
            "starts_at": "2020-01-01T00:00:00+08:00", "ends_at": "2099-01-01T00:00:00+08:00"}), 201)
        job = ok(gw.post("/api/v1/jobs", headers=people["employer"], json={
            "title": "地铁供电维护工", "employer_name": "东莞轨道交通", "city": "东莞", "category": "技工",
            "salary_min": 6000, "salary_max": 9000, "description": "负责供电设备维护", "contact_phone": "13900001111",
            "expires_at": _in_days(30)}), 201)
        ok(gw.post(f"/api/v1/jobs/{job['id']}/review", json={"decision": "approve"}, headers=people["staff"]))
    return {"orgs": orgs, "people": people, "lawyer_id": lawyer_id, "offer": offer, "key": key, "job": job}


def _in_days(days: int) -> str:
    from datetime import UTC, datetime, timedelta

    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def sms_login(gw: httpx.Client, phone: str) -> dict[str, str]:
    return bearer(gw.post("/api/v1/auth/sms/login", json={"phone": phone, "code": CODE}))


def db_rows(stack: Stack, service: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(f"file:{stack.data_dir / f'{service}.db'}?mode=ro", uri=True, timeout=10)
    try:
        return list(conn.execute(sql, params))
    finally:
        conn.close()


def wait_for(check: Any, timeout: float = 20, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def over_redis(stack: Stack) -> bool:
    return stack.env.get("SMARTUNION_EVENTS_TRANSPORT") == "redis"


def unread_by_identity(stack: Stack, producer: str) -> list[str]:
    """Notification kinds in `producer`'s stream after the last entry identity's group read."""
    import redis

    client = redis.Redis.from_url(stack.env["REDIS_URL"])
    try:
        key = f"{stack.env['SMARTUNION_REDIS_NAMESPACE']}:events:{producer}"
        group = next(g for g in client.xinfo_groups(key) if g["name"] == b"identity")
        entries = client.xrange(key, min=f"({group['last-delivered-id'].decode()}")
        return [json.loads(fields[b"payload"])["kind"] for _, fields in entries]
    finally:
        client.close()


# -- 1. notifications survive identity being down -------------------------------------------------
def test_notifications_delivered_after_identity_comes_back(stack: Stack, world: dict[str, Any]) -> None:
    people = world["people"]
    with httpx.Client(base_url=stack.gateway, timeout=20) as gw:
        member = sms_login(gw, INBOX_PHONE)
        application = ok(gw.post("/api/v1/membership/applications", headers=member, json={
            "real_name": "陈家乐", "id_number": id_number("44190019880512004"), "org_id": world["orgs"]["work"],
            "employer_name": "东莞某电子厂"}), 201)
        ticket = ok(gw.post("/api/v1/legal/tickets", headers=member, json={
            "category": "wage_arrears", "title": "加班费", "description": "加班费未结清",
            "employer_name": "东莞某电子厂", "amount_involved_fen": 100000, "org_id": world["orgs"]["work"]}), 201)
        ok(gw.post(f"/api/v1/legal/tickets/{ticket['id']}/assign", json={"lawyer_id": world["lawyer_id"]},
                   headers=people["staff"]))
        assert ok(gw.get("/api/v1/notifications", headers=member))["items"] == []

        stack.kill("identity")
        try:
            ok(gw.post(f"/api/v1/membership/applications/{application['id']}/approve", headers=people["staff"]))
            ok(gw.post(f"/api/v1/legal/tickets/{ticket['id']}/messages", headers=people["lawyer"],
                       json={"body": "您好，我是承办律师，请提供工资条。", "internal": False}), 201)
            time.sleep(1.5)  # several relay passes meanwhile
            if over_redis(stack):
                # Handed to Redis at once; waiting, unread, in each producer's stream for identity.
                for service, kind in (("membership", "application_approved"), ("legal_aid", "ticket_reply")):
                    assert not db_rows(stack, service, "SELECT id FROM outbox_events WHERE delivered_at IS NULL")
                    assert unread_by_identity(stack, service) == [kind]
            else:
                pending = db_rows(stack, "membership", "SELECT payload FROM outbox_events WHERE delivered_at IS NULL")
                assert [json.loads(p)["kind"] for (p,) in pending] == ["application_approved"]
                pending = db_rows(stack, "legal_aid", "SELECT payload FROM outbox_events WHERE delivered_at IS NULL")
                assert [json.loads(p)["kind"] for (p,) in pending] == ["ticket_reply"]
            assert gw.get("/api/v1/notifications", headers=member).status_code == 503
        finally:
            stack.start("identity")
            stack.wait_ready("identity")

        def inbox() -> list[dict[str, Any]] | None:
            items: list[dict[str, Any]] = ok(gw.get("/api/v1/notifications", headers=member))["items"]
            return items if len(items) >= 2 else None

        items = wait_for(inbox, what="both notifications")
        assert sorted(n["kind"] for n in items) == ["application_approved", "ticket_reply"]
        reply = next(n for n in items if n["kind"] == "ticket_reply")
        assert reply["link"] == f"/legal/tickets/{ticket['id']}" and reply["read_at"] is None

        # At least once on the wire: a relay that died after delivering, before marking the row,
        # sends again — the inbox keeps it once.
        conn = sqlite3.connect(stack.data_dir / "membership.db", timeout=10)
        with conn:
            conn.execute("UPDATE outbox_events SET delivered_at = NULL")
        conn.close()
        wait_for(lambda: not db_rows(stack, "membership", "SELECT id FROM outbox_events WHERE delivered_at IS NULL"),
                 what="redelivery")
        again = ok(gw.get("/api/v1/notifications", headers=member))["items"]
        assert sorted(n["id"] for n in again) == sorted(n["id"] for n in items)
        ok(gw.post(f"/api/v1/notifications/{reply['id']}/read", headers=member))
        unread = ok(gw.get("/api/v1/notifications", params={"unread": "true"}, headers=member))["items"]
        assert [n["kind"] for n in unread] == ["application_approved"]
        # Another person sees none of it, and cannot mark it read.
        other = sms_login(gw, ERASE_PHONE)
        assert ok(gw.get("/api/v1/notifications", headers=other))["items"] == []
        assert gw.post(f"/api/v1/notifications/{reply['id']}/read", headers=other).status_code == 404


# -- 2. account deletion across every service -------------------------------------------------------
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 17 + ("工资条" + ERASE_NAME).encode() + b"IEND"


def test_account_deletion_erases_everywhere(stack: Stack, world: dict[str, Any]) -> None:
    people = world["people"]
    number = id_number("44190019900307123")
    with httpx.Client(base_url=stack.gateway, timeout=20) as gw:
        person = sms_login(gw, ERASE_PHONE)
        account_id = ok(gw.get("/api/v1/me", headers=person))["id"]
        application = ok(gw.post("/api/v1/membership/applications", headers=person, json={
            "real_name": ERASE_NAME, "id_number": number, "org_id": world["orgs"]["work"],
            "employer_name": "东莞某电子厂"}), 201)
        ok(gw.post(f"/api/v1/membership/applications/{application['id']}/approve", headers=people["staff"]))
        # A redemption at the merchant.
        qr = ok(gw.post("/api/v1/membership/me/qr", headers=person), 201)["token"]
        body = json.dumps({"qr_token": qr, "offer_id": world["offer"]["id"], "order_amount_fen": 5000}).encode()
        headers = signed_headers(world["key"]["key_id"], world["key"]["secret"], "POST",
                                 "/api/v1/merchant/redemptions", body)
        ok(gw.post("/api/v1/merchant/redemptions", content=body, headers={
            **headers, "Idempotency-Key": "ev-erase-1", "content-type": "application/json"}), 201)
        assert len(ok(gw.get("/api/v1/benefits/redemptions/mine", headers=person))["items"]) == 1
        # A legal ticket with a message and an attachment.
        ticket = ok(gw.post("/api/v1/legal/tickets", headers=person, json={
            "category": "wage_arrears", "title": "加班费被拖欠", "description": CASE_TEXT,
            "employer_name": "东莞某电子厂", "amount_involved_fen": 1730000}), 201)
        ok(gw.post(f"/api/v1/legal/tickets/{ticket['id']}/messages", headers=person,
                   json={"body": MESSAGE_TEXT, "internal": False}), 201)
        ok(gw.post(f"/api/v1/legal/tickets/{ticket['id']}/attachments", headers=person,
                   files={"file": (f"{ERASE_NAME}-工资条.png", PNG, "image/png")}), 201)
        assert len(list((stack.data_dir / "attachments").rglob("*"))) > 0
        # A job application.
        ok(gw.post(f"/api/v1/jobs/{world['job']['id']}/applications", headers=person,
                   json={"message": JOB_MESSAGE}), 201)
        secrets = {"phone": ERASE_PHONE, "id number": number, "real name": ERASE_NAME, "case text": CASE_TEXT,
                   "message": MESSAGE_TEXT, "job message": JOB_MESSAGE}
        # Sanity: the scan does find what is in plaintext before erasure (the job message is stored
        # as written; everything else is encrypted at rest).
        assert "job message" in scan(stack, secrets)

        assert gw.delete("/api/v1/me", headers=person).status_code == 202
        wait_for(lambda: db_rows(stack, "identity", "SELECT count(*) FROM outbox_events WHERE topic = 'account.closed' "
                                 "AND delivered_at IS NULL") == [(0,)], what="account.closed delivered")
        assert gw.get("/api/v1/me", headers=person).status_code == 401

    # Nothing left in plaintext anywhere: database files, their write-ahead logs, attachments.
    # (Each service checkpoints its log right after answering the event: allow it a moment.)
    deadline = time.monotonic() + 10
    while (leftovers := scan(stack, secrets)) and time.monotonic() < deadline:
        time.sleep(0.3)
    assert leftovers == []
    assert [p for p in (stack.data_dir / "attachments").rglob("*") if p.is_file()] == []

    # And the rows that held them (encrypted) are erased or anonymised.
    assert db_rows(stack, "identity", "SELECT phone_enc, phone_hash, phone_masked, status FROM accounts WHERE id = ?",
                   account_id) == [(None, None, None, "closed")]
    assert db_rows(stack, "membership", "SELECT real_name_enc, real_name_masked, id_number_enc, id_number_hash, "
                   "id_number_masked, status FROM members WHERE account_id = ?", account_id) == [
        (None, None, None, None, None, "closed")]
    assert db_rows(stack, "membership", "SELECT real_name_enc, id_number_enc, id_number_hash, employer_name "
                   "FROM applications WHERE account_id = ?", account_id) == [(None, None, None, None)]
    assert db_rows(stack, "benefits", "SELECT count(*) FROM redemptions WHERE account_id = ? OR member_id IS NOT NULL",
                   account_id) == [(0,)]
    assert db_rows(stack, "benefits", "SELECT count(*), sum(order_amount_fen) FROM redemptions") == [(1, 5000)]
    assert db_rows(stack, "jobs", "SELECT count(*) FROM job_applications WHERE applicant_id = ?", account_id) == [(0,)]
    legal = load_pii_cipher(None, stack.data_dir / "keys" / "pii-legal_aid.keys")
    (title_enc, description_enc, employer_enc, status), = db_rows(
        stack, "legal_aid", "SELECT title_enc, description_enc, employer_name_enc, status FROM tickets "
        "WHERE owner_id = ?", account_id)
    assert legal.decrypt(description_enc, context=f"legal:{ticket['id']}:description") == ""
    assert legal.decrypt(title_enc, context=f"legal:{ticket['id']}:title") == "（咨询人已注销）"
    assert employer_enc is None and status == "closed"
    assert db_rows(stack, "legal_aid", "SELECT redacted FROM messages WHERE author_id = ?", account_id) == [(1,)]
    assert db_rows(stack, "legal_aid", "SELECT storage_key, filename_enc FROM attachments WHERE uploader_id = ?",
                   account_id) == [(None, "")]
    assert db_rows(stack, "identity", "SELECT count(*) FROM notifications WHERE account_id = ?", account_id) == [(0,)]


def scan(stack: Stack, secrets: dict[str, str]) -> list[str]:
    """Which secrets occur in any stored byte: every SQLite file with its WAL, every attachment."""
    files = [p for p in stack.data_dir.rglob("*") if p.is_file() and not p.name.endswith(".log")
             and "keys" not in p.parts]
    found = []
    for label, value in secrets.items():
        needle = value.encode()
        for path in files:
            if needle in path.read_bytes():
                found.append(label)
                print(f"{label} found in {path.relative_to(stack.data_dir)}")
                break
    return found


def test_scan_covers_every_service_database(stack: Stack) -> None:
    names = {p.name for p in Path(stack.data_dir).glob("*.db")}
    assert {"identity.db", "membership.db", "benefits.db", "legal_aid.db", "jobs.db"} <= names
