"""Demo data for the benefits service, through the public API: a few Guangzhou partner merchants
in different categories (衣食住行医购游娱) with member offers, created by the city union's staff,
and one API credential for the first merchant (printed by `make run` so that a POS developer can
try the signed merchant API at once, see docs/benefits.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

# Real, well-known places in Guangzhou; the phone numbers are made up.
MERCHANTS: tuple[dict[str, Any], ...] = (
    {"name": "陶陶居酒家（第十甫路店）", "category": "food", "address": "广州市荔湾区第十甫路20号",
     "lat": 23.1183, "lng": 113.2467, "phone": "020-00000001",
     "offers": [{"title": "工会会员早茶九折", "discount_type": "percent_off", "value": 10, "max_discount_fen": 5000,
                 "per_member_limit": 1, "limit_period": "day"}]},
    {"name": "飞扬影城（天河城店）", "category": "entertainment", "address": "广州市天河区天河路208号天河城7楼",
     "lat": 23.1322, "lng": 113.3227, "phone": "020-00000002",
     "offers": [{"title": "周二会员观影立减15元", "discount_type": "amount_off", "value": 1500,
                 "per_member_limit": 2, "limit_period": "week", "total_quota": 500}]},
    {"name": "广州市第一人民医院体检中心", "category": "medical", "address": "广州市越秀区盘福路1号",
     "lat": 23.1372, "lng": 113.2597, "phone": "020-00000003",
     "offers": [{"title": "职工体检套餐八五折", "discount_type": "percent_off", "value": 15, "min_spend_fen": 30000,
                 "per_member_limit": 1, "limit_period": "total"}]},
    {"name": "白天鹅宾馆", "category": "lodging", "address": "广州市荔湾区沙面南街1号",
     "lat": 23.1078, "lng": 113.2434, "phone": "020-00000004",
     "offers": [{"title": "工会会员客房满500减100", "discount_type": "amount_off", "value": 10000,
                 "min_spend_fen": 50000, "per_member_limit": 1, "limit_period": "month"}]},
    {"name": "正佳广场会员服务台", "category": "shopping", "address": "广州市天河区天河路228号",
     "lat": 23.1325, "lng": 113.3276, "phone": "020-00000005",
     "offers": [{"title": "购物满200减30", "discount_type": "amount_off", "value": 3000, "min_spend_fen": 20000,
                 "per_member_limit": 3, "limit_period": "month"}]},
    {"name": "长隆旅游度假区票务中心", "category": "travel", "address": "广州市番禺区汉溪大道东299号",
     "lat": 23.0060, "lng": 113.3290, "phone": "020-00000006",
     "offers": [{"title": "职工家庭游门票九折", "discount_type": "percent_off", "value": 10, "max_discount_fen": 20000,
                 "per_member_limit": 4, "limit_period": "total", "total_quota": 1000}]},
)


async def seed(client: httpx.AsyncClient, ctx: dict[str, Any]) -> None:
    staff = ctx["headers"]["staff_city"]
    now = datetime.now(UTC)
    first_merchant = None
    for spec in MERCHANTS:
        body = {k: v for k, v in spec.items() if k != "offers"}
        resp = await client.post("/api/v1/benefits/merchants", json=body, headers=staff)
        resp.raise_for_status()
        merchant_id = resp.json()["id"]
        first_merchant = first_merchant or merchant_id
        for offer in spec["offers"]:
            resp = await client.post("/api/v1/benefits/offers", headers=staff, json={
                "merchant_id": merchant_id, "description": "出示工会会员码即可享受，不与店内其他优惠同享。",
                "starts_at": (now - timedelta(days=1)).isoformat(), "ends_at": (now + timedelta(days=365)).isoformat(),
                **offer})
            resp.raise_for_status()
    resp = await client.post(f"/api/v1/benefits/merchants/{first_merchant}/credentials", headers=staff)
    resp.raise_for_status()
    ctx["merchant_key"] = {"key_id": resp.json()["key_id"], "secret": resp.json()["secret"]}
