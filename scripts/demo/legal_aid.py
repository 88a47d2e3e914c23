"""Demo data for the legal-aid service, through the public API: the demo member (a member of
workplace_a) asks for help three times — an unpaid-wages case being worked on by the city's
lawyer (with a request for information, the member's answer and a pay-slip image), a work
injury waiting in the city staff's queue, and a dismissal case resolved and rated."""

from __future__ import annotations

import struct
import zlib
from typing import Any

import httpx


def tiny_png() -> bytes:
    """A valid 1×1 PNG (a stand-in for the photo of a pay slip)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00\xff\xff\xff")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


async def _post(client: httpx.AsyncClient, path: str, headers: dict[str, str], **kwargs: Any) -> Any:
    resp = await client.post(path, headers=headers, **kwargs)
    resp.raise_for_status()
    return resp.json()


async def seed(client: httpx.AsyncClient, ctx: dict[str, Any]) -> None:
    member, staff = ctx["headers"]["member"], ctx["headers"]["staff_city"]
    lawyer = ctx["headers"]["lawyer_city"]
    me = await client.get("/api/v1/me", headers=lawyer)
    me.raise_for_status()
    lawyer_id = me.json()["id"]

    wages = await _post(client, "/api/v1/legal/tickets", member, json={
        "category": "wage_arrears", "title": "外包公司拖欠两个月工资",
        "description": "我在地铁站做外包保洁，外包公司 2026 年 8 月、9 月工资共 9600 元至今未发，多次催要无果。",
        "employer_name": "某某物业服务有限公司", "amount_involved_fen": 960_000, "org_id": None})
    base = f"/api/v1/legal/tickets/{wages['id']}"
    await _post(client, f"{base}/assign", staff, json={"lawyer_id": lawyer_id})
    await _post(client, f"{base}/actions", lawyer, json={"action": "accept", "note": "已受理，由李律师承办"})
    await _post(client, f"{base}/messages", lawyer, json={
        "body": "您好，我是承办律师。请问您和外包公司签过书面劳动合同吗？有没有工资条或转账记录？", "internal": False})
    await _post(client, f"{base}/messages", lawyer, json={
        "body": "外包公司同时欠多名员工工资，可考虑集体申请劳动仲裁。", "internal": True})
    await _post(client, f"{base}/actions", lawyer, json={
        "action": "request_info", "note": "请上传工资条或银行流水的照片。"})
    await _post(client, f"{base}/messages", member, json={"body": "签过合同，工资条照片已上传。", "internal": False})
    await _post(client, f"{base}/attachments", member,
                files={"file": ("工资条.png", tiny_png(), "image/png")})

    await _post(client, "/api/v1/legal/tickets", member, json={
        "category": "work_injury", "title": "检修时摔伤，公司不给申报工伤",
        "description": "10 月在车辆段检修时从梯子上摔下，左手骨折，公司说是个人原因不给申报工伤。",
        "employer_name": "广州地铁集团有限公司", "amount_involved_fen": None, "org_id": None})

    dismissal = await _post(client, "/api/v1/legal/tickets", member, json={
        "category": "dismissal", "title": "试用期被口头辞退",
        "description": "试用期第二个月被主管口头通知不用来了，没有任何书面通知，也没有补偿。",
        "employer_name": "某某餐饮管理有限公司", "amount_involved_fen": 500_000, "org_id": None})
    base = f"/api/v1/legal/tickets/{dismissal['id']}"
    await _post(client, f"{base}/actions", staff, json={"action": "accept", "note": None})
    await _post(client, f"{base}/messages", staff, json={
        "body": "用人单位在试用期解除合同须说明理由；已协调企业工会，企业同意支付补偿。", "internal": False})
    await _post(client, f"{base}/actions", staff, json={"action": "resolve", "note": "企业同意支付补偿"})
    await _post(client, f"{base}/rating", member, json={"score": 5, "comment": "很快就解决了，谢谢工会！"})
