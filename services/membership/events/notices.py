"""Notifications for the member's inbox (CONTRACT §9), emitted into this service's outbox in the
transaction of the fact itself; identity's inbox receives them at least once and keeps each once.
Texts name no personal data: the member knows what they applied for."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.outbox import notify
from services.membership.applications.models import Application
from services.membership.events.models import OutboxEvent
from services.membership.transfers.models import Transfer


async def application_approved(session: AsyncSession, application: Application, org_name: str) -> None:
    await notify(session, OutboxEvent, account_id=application.account_id, kind="application_approved",
                 title="入会申请已通过", body=f"欢迎加入{org_name}！您的会员卡已生成，可在“我的会员卡”中查看。",
                 link="/membership/me")


async def application_rejected(session: AsyncSession, application: Application) -> None:
    await notify(session, OutboxEvent, account_id=application.account_id, kind="application_rejected",
                 title="入会申请未通过", body="您的入会申请未通过审核，可查看原因后重新申请。",
                 link=f"/membership/applications/{application.id}")


async def transfer_completed(session: AsyncSession, transfer: Transfer, org_name: str) -> None:
    await notify(session, OutboxEvent, account_id=transfer.account_id, kind="transfer_completed",
                 title="会员关系转移已完成", body=f"您的会员关系已转入{org_name}，会员卡号和权益保持不变。",
                 link="/membership/me")
