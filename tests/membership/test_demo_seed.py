"""scripts/demo/membership.py against the real membership app (as the gateway would route it)."""

from __future__ import annotations

import httpx

from scripts.demo import membership as demo
from services.membership.applications.idcard import normalize_id_number
from tests.tokens import TokenFactory


async def test_demo_seed(membership: httpx.AsyncClient, tokens: TokenFactory) -> None:
    client = membership
    ctx: dict = {"orgs": {}, "headers": {"admin": tokens.headers(roles=["admin"], phone_masked=None)}}
    await demo.seed(client, ctx)
    assert set(ctx["orgs"]) == {"national", "province", "city", "workplace_a", "workplace_b"}
    org = (await client.get(f"/api/v1/orgs/{ctx['orgs']['workplace_a']}", headers=tokens.headers())).json()
    assert org["parent_id"] == ctx["orgs"]["city"] and org["depth"] == 3
    ctx["headers"]["staff_city"] = tokens.headers(roles=["staff"], org_id=ctx["orgs"]["city"], phone_masked=None)
    ctx["headers"]["member"] = tokens.headers()
    await demo.seed_members(client, ctx)
    me = (await client.get("/api/v1/membership/me", headers=ctx["headers"]["member"])).json()
    assert me["member_id"] == ctx["member_id"] and me["org_name"] == "广州地铁集团工会"
    assert normalize_id_number(demo.demo_id_number()) == demo.demo_id_number()
