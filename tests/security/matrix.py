"""Reads tests/security/matrix.csv (route × role → allow / 401 / 403 / 404) and turns one cell into
a real request against a World.

Columns: method; path (the OpenAPI template, optionally with a query string); params (path
parameters as `name=object` separated by `;`, the object being a key of World.ids, `object:role`
winning for that role; `fresh=account` runs the call as a new account of that role); body (JSON
with `$placeholders`, `multipart` for a PDF upload, or empty); then one column per role.
Placeholders: `$qr` a fresh QR token of the member, `$refresh` a fresh refresh token, `$wx` a
fresh WeChat login code, `$phone` a fresh test phone, `$idnum` a fresh valid ID number, `$u` a
unique suffix, `$id:<object>`, `$account:<role>`, `$offer_body`, `$job_body`, `$ticket_body`.
"""

from __future__ import annotations

import csv
import io
import json
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.security.world import CODE, ROLES, TINY_PDF, World

MATRIX = Path(__file__).with_name("matrix.csv")
VERDICTS = frozenset({"allow", "401", "403", "404"})


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    params: dict[str, str]
    body: str
    expect: dict[str, str]

    @property
    def template(self) -> str:
        return self.path.split("?", 1)[0]

    @property
    def key(self) -> str:
        return f"{self.method} {self.template}"


def load_matrix(path: Path = MATRIX) -> list[Row]:
    rows = []
    text = "\n".join(line for line in path.read_text().splitlines() if not line.startswith("#"))
    for raw in csv.DictReader(io.StringIO(text)):
        params = dict(p.split("=", 1) for p in raw["params"].split(";") if p) if raw["params"] else {}
        expect = {role: raw[role].strip() for role in ROLES}
        bad = {r: v for r, v in expect.items() if v not in VERDICTS}
        assert not bad, f"{raw['method']} {raw['path']}: unknown verdicts {bad}"
        rows.append(Row(raw["method"].strip(), raw["path"].strip(), params, raw["body"].strip(), expect))
    return rows


def verdict(status: int) -> str:
    """What a status means for the matrix: 401 / 403 / 404 are refusals, anything else below 500
    (2xx, or a domain answer such as 409 / 422 / 429 to a well-formed call) is `allow`."""
    if status in (401, 403, 404):
        return str(status)
    assert status < 500, f"server error {status}"
    return "allow"


def _substitute(value: Any, world: World, role: str) -> Any:
    if isinstance(value, dict):
        return {k: _substitute(v, world, role) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, world, role) for v in value]
    if not isinstance(value, str) or "$" not in value:
        return value
    if value == "$qr":
        return world.qr("member")
    if value == "$refresh":
        return world.phone_login()[1]["refresh_token"]
    if value == "$wx":
        code = "wx-" + secrets.token_hex(8)
        httpx.post(f"{world.wechat}/_fake/login_codes", json={code: "openid-" + secrets.token_hex(6)}, timeout=5)
        return code
    if value == "$phone":
        return world.next_phone()
    if value == "$code":
        return CODE
    if value == "$idnum":
        return world.next_id_number()
    if value.startswith("$id:"):
        return world.ids[value[4:]]
    if value.startswith("$account:"):
        return world.accounts[value[9:]]
    return re.sub(r"\$u", secrets.token_hex(4), value)


def build_body(row: Row, world: World, role: str) -> Any:
    if not row.body or row.body == "multipart":
        return None
    named = {"$offer_body": world.offer_body, "$job_body": world.job_body, "$ticket_body": world.ticket_body}
    if row.body in named:
        return named[row.body]()
    return _substitute(json.loads(row.body), world, role)


def resolve_path(row: Row, world: World, role: str) -> str:
    path = row.path
    for name, obj in row.params.items():
        if name == "fresh":
            continue
        value = world.ids.get(f"{obj}:{role}") or world.ids[obj]
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, f"unresolved parameter in {path}"
    return path


def perform(row: Row, world: World, role: str) -> httpx.Response:
    path = resolve_path(row, world, role)
    body = build_body(row, world, role)
    headers = {"Idempotency-Key": secrets.token_hex(8)} if row.key == "POST /api/v1/merchant/redemptions" else {}
    if role == "merchant":
        return world.merchant_call(row.method, path, body, headers=headers)
    if "fresh" in row.params and role not in ("anonymous", "merchant"):
        resp = world.gw.request(row.method, path, headers=world.fresh_headers(role))
        world.answers.append((f"{row.method} {path}", resp.text))
        return resp
    if row.body == "multipart":
        return world.call(row.method, path, role=role, headers=headers,
                          files={"file": ("证据.pdf", io.BytesIO(TINY_PDF), "application/pdf")})
    return world.call(row.method, path, role=role, headers=headers,
                      json=body if body is not None or row.method in ("POST", "PATCH", "PUT") else None)
