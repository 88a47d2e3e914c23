"""Demo data for the membership service, through the public API: the union tree
(全国总工会 → 广东省总工会 → 广州市总工会 → two workplace unions), then the demo member's online
application, approved by the city's staff so that the member has a card and QR codes."""

from __future__ import annotations

from typing import Any

import httpx

ORG_TREE = (
    # key, name, parent key
    ("national", "中华全国总工会", None),
    ("province", "广东省总工会", "national"),
    ("city", "广州市总工会", "province"),
    ("workplace_a", "广州地铁集团工会", "city"),
    ("workplace_b", "广州白云国际机场工会", "city"),
)

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def demo_id_number(first17: str = "44010619900307123") -> str:
    """A made-up ID number with a correct GB 11643 check character (no real person's)."""
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


async def seed(client: httpx.AsyncClient, ctx: dict[str, Any]) -> None:
    """Create the org tree as admin; ids land in ctx["orgs"]."""
    admin = ctx["headers"]["admin"]
    for key, name, parent in ORG_TREE:
        resp = await client.post("/api/v1/orgs", headers=admin,
                                 json={"name": name, "parent_id": ctx["orgs"][parent] if parent else None})
        resp.raise_for_status()
        ctx["orgs"][key] = resp.json()["id"]


async def seed_members(client: httpx.AsyncClient, ctx: dict[str, Any]) -> None:
    """The demo member applies to workplace_a; the city's staff approve."""
    member, staff = ctx["headers"]["member"], ctx["headers"]["staff_city"]
    resp = await client.post("/api/v1/membership/applications", headers=member, json={
        "real_name": "陈小红", "id_number": demo_id_number(), "org_id": ctx["orgs"]["workplace_a"],
        "employer_name": "广州地铁集团有限公司"})
    resp.raise_for_status()
    resp = await client.post(f"/api/v1/membership/applications/{resp.json()['id']}/approve", headers=staff)
    resp.raise_for_status()
    ctx["member_id"] = resp.json()["member_id"]
