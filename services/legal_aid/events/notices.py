"""Notifications for the ticket owner's inbox (CONTRACT §9), emitted into this service's outbox
in the transaction of the reply or status change itself; identity's inbox receives them at least
once and keeps each once. Texts carry no case text: the owner opens the ticket to read it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.outbox import notify
from services.legal_aid.events.models import OutboxEvent
from services.legal_aid.tickets.models import Ticket

# Status changes the owner hears about, with the sentence they read.
STATUS_TEXT = {
    "accepted": "您的法律援助咨询已受理，律师将尽快与您联系。",
    "waiting_member": "律师需要您补充信息，请查看回复并尽快补充。",
    "resolved": "您的法律援助咨询已办结，欢迎对本次服务进行评价。",
    "closed": "您的法律援助咨询已关闭。",
    "rejected": "您的法律援助咨询未被受理，请查看原因。",
}


def link(ticket: Ticket) -> str:
    return f"/legal/tickets/{ticket.id}"


async def ticket_reply(session: AsyncSession, ticket: Ticket) -> None:
    await notify(session, OutboxEvent, account_id=ticket.owner_id, kind="ticket_reply",
                 title="法律援助咨询有新回复", body="工会工作人员或律师回复了您的咨询，请查看。", link=link(ticket))


async def ticket_status(session: AsyncSession, ticket: Ticket) -> None:
    text = STATUS_TEXT.get(ticket.status)
    if text is not None:
        await notify(session, OutboxEvent, account_id=ticket.owner_id, kind="ticket_status",
                     title="法律援助咨询状态更新", body=text, link=link(ticket))
