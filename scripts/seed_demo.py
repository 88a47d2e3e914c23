"""Demo data for a fresh `make run`, created through the public API like a real client would:
the org tree, staff / lawyer / employer accounts, a member, and each service's own demo data."""

from __future__ import annotations

import importlib
from typing import Any

import httpx

DEMO_PASSWORD = "demo-password-2026"
DEMO_ACCOUNTS = {
    # key: (username, display name, roles, org key)
    "staff_city": ("gz-staff", "广州市总工会 张干事", ["staff"], "city"),
    "lawyer_city": ("gz-lawyer", "广州市总工会 李律师", ["lawyer"], "city"),
    "employer": ("metro-hr", "广州地铁 人事部", ["employer"], "workplace_a"),
}
MEMBER_PHONE, MEMBER_CODE = "13800000001", "123456"
SERVICES = ("membership", "benefits", "legal_aid", "jobs")


def _demo(name: str) -> Any:
    try:
        return importlib.import_module(f"scripts.demo.{name}")
    except ModuleNotFoundError:
        return None


async def _login(client: httpx.AsyncClient, username: str, password: str) -> dict[str, str]:
    resp = await client.post("/api/v1/auth/password/login", json={"username": username, "password": password})
    resp.raise_for_status()
    return {"authorization": f"Bearer {resp.json()['access_token']}"}


async def seed(gateway: str, env: dict[str, str]) -> None:
    async with httpx.AsyncClient(base_url=gateway, timeout=30) as client:
        ctx: dict[str, Any] = {"orgs": {}, "headers": {}}
        ctx["headers"]["admin"] = await _login(client, env["BOOTSTRAP_ADMIN_USERNAME"], env["BOOTSTRAP_ADMIN_PASSWORD"])
        membership = _demo("membership")
        if membership is not None:
            await membership.seed(client, ctx)
        for key, (username, display_name, roles, org_key) in DEMO_ACCOUNTS.items():
            resp = await client.post("/api/v1/admin/accounts", headers=ctx["headers"]["admin"], json={
                "username": username, "password": DEMO_PASSWORD, "display_name": display_name, "roles": roles,
                "org_id": ctx["orgs"].get(org_key)})
            resp.raise_for_status()
            ctx["headers"][key] = await _login(client, username, DEMO_PASSWORD)
        resp = await client.post("/api/v1/auth/sms/login", json={"phone": MEMBER_PHONE, "code": MEMBER_CODE})
        resp.raise_for_status()
        ctx["headers"]["member"] = {"authorization": f"Bearer {resp.json()['access_token']}"}
        if membership is not None and hasattr(membership, "seed_members"):
            await membership.seed_members(client, ctx)
        for name in SERVICES[1:]:
            module = _demo(name)
            if module is not None:
                await module.seed(client, ctx)
        if merchant := ctx.get("merchant_key"):
            print(f"  demo merchant key_id {merchant['key_id']} secret {merchant['secret']}", flush=True)
        print(f"  demo staff logins (password {DEMO_PASSWORD}): "
              + ", ".join(u for u, *_ in DEMO_ACCOUNTS.values()), flush=True)
