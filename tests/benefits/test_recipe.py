"""The integration recipes of docs/benefits.md, run as written (Python block and curl + openssl
block) against real processes: identity, membership, benefits and the gateway on uvicorn."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.benefits.conftest import id_number
from tests.stack import REPO, Stack, running_stack

DOC = (REPO / "docs" / "benefits.md").read_text()
PHONE, CODE = "13600136000", "246802"
ADMIN = ("recipe-admin", "recipe-admin-password")


def block(lang: str) -> str:
    match = re.search(rf"```{lang}\n(.*?)```", DOC, re.S)
    assert match, lang
    return match.group(1)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    env = {"SMS_TEST_CODES": f"{PHONE}:{CODE}", "BOOTSTRAP_ADMIN_USERNAME": ADMIN[0],
           "BOOTSTRAP_ADMIN_PASSWORD": ADMIN[1]}
    with running_stack(tmp_path_factory.mktemp("recipe"), env, services=("identity", "membership", "benefits")) as s:
        yield s


@pytest.fixture(scope="module")
def shop(stack: Stack) -> dict[str, Any]:
    """Through the gateway: an org, a merchant with a key and an offer, and an approved member."""
    with httpx.Client(base_url=stack.gateway, timeout=15) as c:
        login = c.post("/api/v1/auth/password/login", json={"username": ADMIN[0], "password": ADMIN[1]})
        admin = {"authorization": f"Bearer {login.json()['access_token']}"}
        org = c.post("/api/v1/orgs", json={"name": "广州市总工会", "parent_id": None}, headers=admin).json()["id"]
        merchant = c.post("/api/v1/benefits/merchants", headers=admin, json={
            "name": "陶陶居酒家", "category": "food", "address": "广州市荔湾区第十甫路20号", "lat": 23.118,
            "lng": 113.246, "org_id": org})
        assert merchant.status_code == 201, merchant.text
        key = c.post(f"/api/v1/benefits/merchants/{merchant.json()['id']}/credentials", headers=admin).json()
        now = datetime.now(UTC)
        offer = c.post("/api/v1/benefits/offers", headers=admin, json={
            "merchant_id": merchant.json()["id"], "title": "会员九折", "discount_type": "percent_off", "value": 10,
            "per_member_limit": 5, "limit_period": "day", "starts_at": now.isoformat(),
            "ends_at": (now + timedelta(days=1)).isoformat()}).json()
        pair = c.post("/api/v1/auth/sms/login", json={"phone": PHONE, "code": CODE}).json()
        member = {"authorization": f"Bearer {pair['access_token']}"}
        app = c.post("/api/v1/membership/applications", headers=member, json={
            "real_name": "李四", "id_number": id_number(7), "org_id": org, "employer_name": "广州地铁"})
        assert app.status_code == 201, app.text
        assert c.post(f"/api/v1/membership/applications/{app.json()['id']}/approve", headers=admin).status_code == 200
    return {"key": key, "offer": offer, "member": member, "gateway": stack.gateway}


def qr(shop: dict[str, Any]) -> str:
    resp = httpx.post(shop["gateway"] + "/api/v1/membership/me/qr", headers=shop["member"], timeout=10)
    assert resp.status_code == 201, resp.text
    return str(resp.json()["token"])


def test_python_recipe(shop: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    code = block("python")
    code = code.replace('BASE = "http://127.0.0.1:8000"', f'BASE = "{shop["gateway"]}"')
    code = code.replace('KEY_ID = "mk_..."', f'KEY_ID = "{shop["key"]["key_id"]}"')
    code = code.replace('SECRET = "sk_..."', f'SECRET = "{shop["key"]["secret"]}"')
    code = code.replace("<offer id>", shop["offer"]["id"])
    namespace: dict[str, Any] = {}
    exec(compile(code, "docs/benefits.md", "exec"), namespace)  # the example calls run too
    printed = capsys.readouterr().out
    assert "'reason': 'invalid'" in printed and "qr_token_invalid" in printed and "'items': []" in printed
    token = qr(shop)
    verified = namespace["post"]("/api/v1/merchant/verify", {"qr_token": token})
    assert verified.status_code == 200 and verified.json()["valid"] is True, verified.text
    redeemed = namespace["post"]("/api/v1/merchant/redemptions",
                                 {"qr_token": token, "offer_id": shop["offer"]["id"], "order_amount_fen": 12800},
                                 {"Idempotency-Key": "recipe-sale-1"})
    assert redeemed.status_code == 201, redeemed.text
    assert (redeemed.json()["discount_fen"], redeemed.json()["payable_fen"]) == (1280, 11520)
    history = namespace["get"]("/api/v1/merchant/redemptions?limit=20")
    assert history.status_code == 200 and history.json()["items"][0]["id"] == redeemed.json()["id"]


@pytest.mark.skipif(not (shutil.which("curl") and shutil.which("openssl")), reason="curl/openssl not installed")
def test_curl_openssl_recipe(shop: dict[str, Any], tmp_path: Path) -> None:
    token = qr(shop)
    script = block("bash")
    script = script.replace("BASE=http://127.0.0.1:8000", f"BASE={shop['gateway']}")
    script = script.replace("KEY_ID=mk_...", f"KEY_ID={shop['key']['key_id']}")
    script = script.replace("SECRET=sk_...", f"SECRET={shop['key']['secret']}")
    script = script.replace("<scanned QR text>", token)
    path = tmp_path / "recipe.sh"
    path.write_text(script)
    out = subprocess.run(["bash", str(path)], capture_output=True, text=True, timeout=30, check=True).stdout
    body = json.loads(out)
    assert body["valid"] is True and body["member"]["name_masked"] == "李*", out
