"""A real stack (every service + the gateway as processes) populated through the public API with
one object of every kind and one account per role, for the security suite.

Roles (CONTRACT §3): anonymous, user (bound phone, not a member), member, suspended member,
staff of city A (in scope of every object below), staff of city B (out of scope), lawyer of
city A (assignee of the ticket), employer of city A (poster of the jobs), admin, and a merchant
POS key. Objects are owned by the member / live in city A unless their name says otherwise.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import secrets
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from services.benefits.merchant_api.signing import signed_headers
from services.common.config import SERVICE_NAMES, database_url_for_service
from services.common.internal_auth import ServiceSigner
from tests.backends import postgres_url, redis_url
from tests.databases import _drop_database
from tests.fakes.wechat import APPID, SECRET
from tests.stack import REPO, Stack, free_port, running_stack, uvicorn_cmd

ROLES = ("anonymous", "user", "member", "suspended", "staff_in", "staff_out", "lawyer", "employer", "admin",
         "merchant")
ADMIN = ("sec-admin", "sec-admin-password-0")
CODE = "246810"
APP_ORIGIN = "https://app.smartunion.example"
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
# Phones with fixed SMS codes (never sent); 139 5xxx xxxx, one block per purpose.
PHONES = [f"1395{n:07d}" for n in range(1, 201)]
TINY_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def id_number(seq: int) -> str:
    """A valid GB 11643 ID number (check character computed), distinct per seq."""
    first17 = f"32010219850611{seq % 1000:03d}"
    return first17 + "10X98765432"[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


@contextmanager
def wechat_fake(log_dir: Path) -> Iterator[str]:
    port = free_port()
    log = (log_dir / "wechat-fake.log").open("wb")
    proc = subprocess.Popen(uvicorn_cmd("tests.fakes.wechat:create_app", port), cwd=REPO, stdout=log,
                            stderr=subprocess.STDOUT, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
                            executable=sys.executable)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{url}/_fake/state", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def stack_env(wechat_url: str, **extra: str) -> dict[str, str]:
    return {"SMS_TEST_CODES": ",".join(f"{p}:{CODE}" for p in PHONES),
            "BOOTSTRAP_ADMIN_USERNAME": ADMIN[0], "BOOTSTRAP_ADMIN_PASSWORD": ADMIN[1],
            "WECHAT_APPID": APPID, "WECHAT_SECRET": SECRET, "WECHAT_API_BASE": wechat_url,
            "IDENTITY_WECHAT_TIMEOUT": "2", "GATEWAY_CORS_ORIGINS": json.dumps([APP_ORIGIN]), **extra}


@dataclass(frozen=True)
class Backend:
    """Where a security stack keeps its data: SQLite files in its data dir, or — as production
    does — one PostgreSQL database per service (`<prefix>_<service>`) plus Redis for rate limits,
    nonces and events, under a key namespace of its own."""

    name: str
    database_url: str | None = None  # DATABASE_URL given to the stack (the server + the prefix)
    redis_url: str | None = None
    redis_namespace: str | None = None

    def env(self) -> dict[str, str]:
        if self.name == "sqlite":
            return {}
        assert self.database_url and self.redis_url and self.redis_namespace
        return {"DATABASE_URL": self.database_url, "REDIS_URL": self.redis_url,
                "SMARTUNION_REDIS_NAMESPACE": self.redis_namespace}

    def service_database_url(self, service: str) -> str:
        assert self.database_url
        return database_url_for_service(self.database_url, service)


@contextmanager
def backend_for(name: str) -> Iterator[Backend]:
    """A fresh, empty place for one stack's data; PostgreSQL databases and Redis keys are removed
    afterwards (names unique per run: pid + random, so parallel workers and runs never meet)."""
    if name == "sqlite":
        yield Backend("sqlite")
        return
    server, redis = postgres_url(), redis_url()
    assert server is not None and redis is not None
    tag = f"su_sec_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    backend = Backend("postgres", f"{server.rstrip('/')}/{tag}", redis, tag)
    try:
        yield backend
    finally:
        for service in SERVICE_NAMES:
            asyncio.run(_drop_database(backend.service_database_url(service)))
        _drop_redis_keys(redis, f"{tag}:*")


def _drop_redis_keys(url: str, pattern: str) -> None:
    from redis import Redis

    with Redis.from_url(url) as r:
        keys = list(r.scan_iter(match=pattern, count=1000))
        for start in range(0, len(keys), 500):
            r.delete(*keys[start:start + 500])


@contextmanager
def security_stack(data_dir: Path, backend: Backend | None = None, **extra: str) -> Iterator[tuple[Stack, str]]:
    env = {**(backend.env() if backend else {}), **extra}
    with wechat_fake(data_dir) as wechat, running_stack(data_dir, stack_env(wechat, **env)) as stack:
        yield stack, wechat


@dataclass
class Pos:
    """A merchant POS signing as docs/benefits.md says."""

    key_id: str
    secret: str

    def headers(self, method: str, target: str, body: bytes = b"") -> dict[str, str]:
        return signed_headers(self.key_id, self.secret, method, target, body)


@dataclass
class World:
    stack: Stack
    wechat: str
    gw: httpx.Client
    backend: Backend = field(default_factory=lambda: Backend("sqlite"))
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    accounts: dict[str, str] = field(default_factory=dict)  # role → account id
    ids: dict[str, str] = field(default_factory=dict)  # object name → id
    pos: Pos | None = None
    phones_used: list[str] = field(default_factory=list)
    id_numbers_used: list[str] = field(default_factory=list)
    answers: list[tuple[str, str]] = field(default_factory=list)  # (request line, body text) of every call
    _phone_next: int = 0
    _seq: int = 0

    # -- plumbing --------------------------------------------------------------------------------------
    def call(self, method: str, path: str, *, role: str | None = None, headers: dict[str, str] | None = None,
             **kwargs: Any) -> httpx.Response:
        h = dict(self.headers.get(role, {})) if role else {}
        h.update(headers or {})
        resp = self.gw.request(method, path, headers=h, **kwargs)
        self.answers.append((f"{method} {path}", resp.text))
        return resp

    def burst(self, calls: list[tuple[str, str, dict[str, str], Any]]) -> list[httpx.Response]:
        """(method, path, headers, json) calls released together, each on its own connection: on
        PostgreSQL they really run concurrently (SQLite serialises the writes), so a check-then-act
        without a lock shows up as more than one success."""
        gate = threading.Barrier(len(calls))
        answers: list[httpx.Response | None] = [None] * len(calls)

        def run(i: int) -> None:
            method, path, headers, body = calls[i]
            with httpx.Client(base_url=self.stack.gateway, timeout=30) as client:
                client.get("/healthz")  # connected before the gate opens
                gate.wait(timeout=30)
                answers[i] = client.request(method, path, headers=headers, json=body)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        done = [a for a in answers if a is not None]
        assert len(done) == len(calls), "a call of the burst did not finish"
        for call, resp in zip(calls, done, strict=True):
            self.answers.append((f"{call[0]} {call[1]}", resp.text))
        return done

    def ok(self, resp: httpx.Response, status: int = 200) -> Any:
        assert resp.status_code == status, f"{resp.request.method} {resp.request.url}: {resp.status_code} {resp.text}"
        return resp.json() if resp.content else None

    def next_phone(self) -> str:
        phone = PHONES[self._phone_next]
        self._phone_next += 1
        self.phones_used.append(phone)
        return phone

    def next_id_number(self) -> str:
        self._seq += 1
        number = id_number(self._seq)
        self.id_numbers_used.append(number)
        return number

    def phone_login(self, phone: str | None = None) -> tuple[dict[str, str], dict[str, Any]]:
        pair = self.ok(self.call("POST", "/api/v1/auth/sms/login", json={"phone": phone or self.next_phone(),
                                                                        "code": CODE}))
        return bearer(pair["access_token"]), pair

    def password_login(self, username: str, password: str) -> dict[str, Any]:
        return dict(self.ok(self.call("POST", "/api/v1/auth/password/login",
                                      json={"username": username, "password": password})))

    def account(self, username: str, roles: list[str], org_id: str | None) -> dict[str, str]:
        password = f"{username}-password-0"
        self.ok(self.call("POST", "/api/v1/admin/accounts", role="admin", json={
            "username": username, "password": password, "display_name": f"{username} 干事", "roles": roles,
            "org_id": org_id}), 201)
        return bearer(self.password_login(username, password)["access_token"])

    def fresh_headers(self, role: str) -> dict[str, str]:
        """A new account with the same role and org as `role` (for calls that end the account)."""
        if role == "user":
            return self.phone_login()[0]
        if role in ("member", "suspended"):
            headers, member_id, _ = self.new_member()
            if role == "suspended":
                self.ok(self.call("POST", f"/api/v1/membership/members/{member_id}/suspend", role="admin",
                                  json={"reason": "会费欠缴"}))
            return headers
        roles, org = {"staff_in": (["staff"], "city_a"), "staff_out": (["staff"], "city_b"),
                      "lawyer": (["lawyer"], "city_a"), "employer": (["employer"], "ws_a"),
                      "admin": (["admin"], None)}[role]
        return self.account(f"sec-{role.replace('_', '-')}-{secrets.token_hex(3)}", roles,
                            self.ids[org] if org else None)

    def org(self, name: str, parent: str | None) -> str:
        return str(self.ok(self.call("POST", "/api/v1/orgs", role="admin",
                                     json={"name": name, "parent_id": parent}), 201)["id"])

    def apply(self, headers: dict[str, str], org_id: str) -> dict[str, Any]:
        return dict(self.ok(self.gw.post("/api/v1/membership/applications", headers=headers, json={
            "real_name": "欧阳小明", "id_number": self.next_id_number(), "org_id": org_id,
            "employer_name": "南京地铁运营有限公司"}), 201))

    def new_member(self, org_id: str | None = None) -> tuple[dict[str, str], str, str]:
        """A fresh phone account, applied and approved: (headers, member id, account id)."""
        headers, pair = self.phone_login()
        app = self.apply(headers, org_id or self.ids["ws_a"])
        approved = self.ok(self.call("POST", f"/api/v1/membership/applications/{app['id']}/approve", role="admin"))
        return headers, str(approved["member_id"]), str(pair["account_id"])

    def service_call(self, caller: str, service: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A service-to-service call straight to a service (never through the gateway)."""
        token = ServiceSigner(self.stack.env["SMARTUNION_INTERNAL_SECRET"], caller).token_for(service)
        return httpx.request(method, self.stack.service_url(service) + path, headers={"x-service-token": token},
                             timeout=10, **kwargs)

    def notification(self, account_id: str, link: str | None = "/legal/tickets/1") -> str:
        """A notification in the account's inbox, delivered the way producing services do."""
        self.ok(self.service_call("membership", "identity", "POST", "/internal/events", json={
            "id": "evt-" + secrets.token_hex(8), "topic": "notification", "payload": {
                "account_id": account_id, "kind": "application_approved", "title": "入会申请已通过",
                "body": "欢迎加入工会", "link": link}}))
        headers = self.headers.get(next((r for r, a in self.accounts.items() if a == account_id), ""), {})
        items = self.ok(self.gw.get("/api/v1/notifications", headers=headers))["items"] if headers else []
        return str(items[0]["id"]) if items else ""

    def qr(self, role_or_headers: str | dict[str, str] = "member") -> str:
        h = self.headers[role_or_headers] if isinstance(role_or_headers, str) else role_or_headers
        return str(self.ok(self.gw.post("/api/v1/membership/me/qr", headers=h), 201)["token"])

    def new_key(self, merchant: str = "merchant") -> Pos:
        body = self.ok(self.call("POST", f"/api/v1/benefits/merchants/{self.ids[merchant]}/credentials",
                                 role="staff_in"), 201)
        return Pos(body["key_id"], body["secret"])

    def merchant_call(self, method: str, target: str, body: Any = None, *, pos: Pos | None = None,
                      headers: dict[str, str] | None = None) -> httpx.Response:
        pos = pos or self.pos
        assert pos is not None
        raw = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
        h = pos.headers(method, target, raw)
        if body is not None:
            h["content-type"] = "application/json"
        h.update(headers or {})
        resp = self.gw.request(method, target, content=raw, headers=h)
        self.answers.append((f"{method} {target}", resp.text))
        return resp

    def redeem(self, qr: str, offer: str = "offer", amount: int = 10000, key: str | None = None,
               pos: Pos | None = None) -> httpx.Response:
        return self.merchant_call("POST", "/api/v1/merchant/redemptions",
                                  {"qr_token": qr, "offer_id": self.ids[offer], "order_amount_fen": amount},
                                  pos=pos, headers={"Idempotency-Key": key or secrets.token_hex(8)})

    def offer_body(self, merchant: str = "merchant", **overrides: Any) -> dict[str, Any]:
        now = datetime.now(UTC)
        return {"merchant_id": self.ids[merchant], "title": "会员九折", "description": "工会会员凭码享受",
                "discount_type": "percent_off", "value": 10, "min_spend_fen": 0, "max_discount_fen": None,
                "per_member_limit": 1000, "limit_period": "total", "total_quota": None, "eligible_org_id": None,
                "starts_at": (now - timedelta(hours=1)).isoformat(),
                "ends_at": (now + timedelta(days=30)).isoformat(), **overrides}

    def job_body(self, **overrides: Any) -> dict[str, Any]:
        self._seq += 1
        return {"title": f"地铁检修电工（{self._seq}号岗）", "employer_name": "南京地铁运营有限公司", "city": "南京",
                "category": "技工",
                "salary_min": 6000, "salary_max": 9000, "description": "负责地铁供电设备的日常检修维护",
                "contact_phone": "13912345678", "expires_at": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
                **overrides}

    def ticket_body(self, **overrides: Any) -> dict[str, Any]:
        return {"category": "wage_arrears", "title": "工资拖欠三个月", "description": "公司拖欠2月至4月工资共计两万元",
                "employer_name": "南京某建筑公司", "amount_involved_fen": 2_000_000, **overrides}

    def upload(self, ticket: str, role: str = "member", data: bytes = TINY_PDF, name: str = "证据.pdf",
               content_type: str = "application/pdf") -> httpx.Response:
        return self.call("POST", f"/api/v1/legal/tickets/{self.ids[ticket]}/attachments", role=role,
                         files={"file": (name, io.BytesIO(data), content_type)})


def build_world(stack: Stack, wechat: str, gw: httpx.Client, backend: Backend | None = None) -> World:
    w = World(stack=stack, wechat=wechat, gw=gw, backend=backend or Backend("sqlite"))
    w.headers["anonymous"] = {}
    w.phones_used.append("13950000200")  # the matrix logs in with it
    w.headers["admin"] = bearer(w.password_login(*ADMIN)["access_token"])
    ids = w.ids
    ids["svc_identity"] = "identity"
    ids["root"] = w.org("全国总工会", None)
    ids["city_a"] = w.org("南京市总工会", ids["root"])
    ids["ws_a"] = w.org("南京地铁集团工会", ids["city_a"])
    ids["ws_a2"] = w.org("南京港务集团工会", ids["city_a"])
    ids["city_b"] = w.org("苏州市总工会", ids["root"])
    ids["ws_b"] = w.org("苏州工业园区工会", ids["city_b"])
    w.headers["staff_in"] = w.account("sec-staff-a", ["staff"], ids["city_a"])
    w.headers["staff_out"] = w.account("sec-staff-b", ["staff"], ids["city_b"])
    w.headers["lawyer"] = w.account("sec-lawyer-a", ["lawyer"], ids["city_a"])
    w.headers["employer"] = w.account("sec-employer-a", ["employer"], ids["ws_a"])
    for role in ("staff_in", "staff_out", "lawyer", "employer", "admin"):
        w.accounts[role] = w.ok(w.call("GET", "/api/v1/me", role=role))["id"]

    # People: a plain user, the member, a suspended member, and members who are only objects.
    w.headers["user"], pair = w.phone_login()
    w.accounts["user"] = pair["account_id"]
    w.headers["member"], ids["member"], w.accounts["member"] = w.new_member()
    w.headers["suspended"], ids["member_suspended"], w.accounts["suspended"] = w.new_member()
    w.ok(w.call("POST", f"/api/v1/membership/members/{ids['member_suspended']}/suspend", role="staff_in",
                json={"reason": "会费欠缴"}))
    _, ids["member_other"], _ = w.new_member()  # suspended / reinstated by the matrix
    mover_headers, ids["member_mover"], _ = w.new_member()
    ids["application"] = w.ok(w.call("GET", "/api/v1/membership/applications", role="member"))["items"][0]["id"]
    # Pending applications of another phone account (approve / reject cells).
    applicant, _ = w.phone_login()
    ids["application_pending"] = w.apply(applicant, ids["ws_a"])["id"]
    applicant2, _ = w.phone_login()
    ids["application_pending2"] = w.apply(applicant2, ids["ws_a"])["id"]
    ids["transfer"] = w.ok(w.gw.post("/api/v1/membership/transfers", headers=mover_headers,
                                     json={"to_org_id": ids["ws_a2"], "reason": "工作调动"}), 201)["id"]
    ids["notification"] = w.notification(w.accounts["member"])

    # Benefits: a merchant of city A with a POS key, an offer, a redemption.
    merchant = w.ok(w.call("POST", "/api/v1/benefits/merchants", role="staff_in", json={
        "name": "金陵饭店", "category": "food", "address": "南京市鼓楼区汉中路2号", "lat": 32.0443, "lng": 118.7781,
        "phone": "025-84711888"}), 201)
    ids["merchant"] = merchant["id"]
    w.pos = w.new_key()
    ids["key"] = w.pos.key_id
    ids["offer"] = w.ok(w.call("POST", "/api/v1/benefits/offers", role="staff_in", json=w.offer_body()), 201)["id"]
    ids["redemption"] = w.ok(w.redeem(w.qr("member")), 201)["id"]

    # Legal aid: the member's ticket, assigned to the lawyer, with a message and an attachment.
    ticket = w.ok(w.call("POST", "/api/v1/legal/tickets", role="member", json=w.ticket_body()), 201)
    ids["ticket"] = ticket["id"]
    w.accounts["lawyer"] = w.accounts["lawyer"]
    w.ok(w.call("POST", f"/api/v1/legal/tickets/{ids['ticket']}/assign", role="staff_in",
                json={"lawyer_id": w.accounts["lawyer"]}))
    ids["message"] = w.ok(w.call("POST", f"/api/v1/legal/tickets/{ids['ticket']}/messages", role="member",
                                 json={"body": "请尽快处理", "internal": False}), 201)["id"]
    ids["attachment"] = w.ok(w.upload("ticket"), 201)["id"]

    # Jobs: a published job, a pending one, one to close; the user applied to the published one.
    ids["job"] = w.ok(w.call("POST", "/api/v1/jobs", role="employer", json=w.job_body()), 201)["id"]
    w.ok(w.call("POST", f"/api/v1/jobs/{ids['job']}/review", role="staff_in",
                json={"decision": "approve", "reason": None}))
    ids["job_pending"] = w.ok(w.call("POST", "/api/v1/jobs", role="employer", json=w.job_body()), 201)["id"]
    ids["job_close"] = w.ok(w.call("POST", "/api/v1/jobs", role="employer", json=w.job_body()), 201)["id"]
    ids["job_application"] = w.ok(w.call("POST", f"/api/v1/jobs/{ids['job']}/applications", role="member",
                                         json={"message": "我有电工证"}), 201)["id"]
    return w
