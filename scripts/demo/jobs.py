"""Demo data for the jobs service, through the public API: a handful of postings by the metro
company's HR (org workplace_a), reviewed by the Guangzhou city union's staff; the demo member
applies to one of them. Search for 电工, 司机, 保安 or 保洁 with city 广州 to see them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

# Made-up postings; the credit code is a well-formed example, the phone numbers are not real.
JOBS: tuple[dict[str, Any], ...] = (
    {"title": "地铁车站电工", "category": "技工", "salary_min": 6500, "salary_max": 9000,
     "description": "负责车站低压配电、照明设备的日常巡检与维修，持低压电工证，能适应倒班。",
     "employer_credit_code": "91350100M000100Y43"},
    {"title": "班车司机", "category": "交通运输", "salary_min": 6000, "salary_max": 8000,
     "description": "驾驶员工通勤班车，A1 或 B1 驾照，三年以上安全驾驶经验。"},
    {"title": "车辆段保安", "category": "安保", "salary_min": 4500, "salary_max": 5500,
     "description": "车辆段门岗与夜间巡逻，退伍军人优先，包工作餐。"},
    {"title": "站务保洁员", "category": "家政保洁", "salary_min": 4000, "salary_max": 4800,
     "description": "车站公共区域保洁，早班或晚班，五十五岁以下身体健康。"},
    {"title": "机电维修工学徒", "category": "技工", "salary_min": 4200, "salary_max": 5200,
     "description": "跟随师傅学习自动扶梯、屏蔽门维修，公司提供培训并协助考取电工证。"},
)
REJECTED = {"title": "日结高薪兼职", "category": "其他", "salary_min": 20000, "salary_max": 50000,
            "description": "在家轻松赚钱，先交押金。"}


async def seed(client: httpx.AsyncClient, ctx: dict[str, Any]) -> None:
    employer, staff = ctx["headers"]["employer"], ctx["headers"]["staff_city"]
    expires = (datetime.now(UTC) + timedelta(days=60)).isoformat()
    ids = []
    for spec in (*JOBS, REJECTED):
        body = {"employer_name": "广州地铁集团有限公司", "city": "广州", "contact_phone": "13800138000",
                "expires_at": expires, **spec}
        resp = await client.post("/api/v1/jobs", json=body, headers=employer)
        resp.raise_for_status()
        ids.append(resp.json()["id"])
    for job_id in ids[:-1]:
        resp = await client.post(f"/api/v1/jobs/{job_id}/review", json={"decision": "approve", "reason": "信息核实"},
                                 headers=staff)
        resp.raise_for_status()
    resp = await client.post(f"/api/v1/jobs/{ids[-1]}/review",
                             json={"decision": "reject", "reason": "疑似收取押金，不予发布"}, headers=staff)
    resp.raise_for_status()
    if member := ctx["headers"].get("member"):
        resp = await client.post(f"/api/v1/jobs/{ids[1]}/applications",
                                 json={"message": "有八年班车驾驶经验，随时可以到岗。"}, headers=member)
        resp.raise_for_status()
