from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.membership.applications.models import Application
from services.membership.events.models import ProcessedEvent
from services.membership.members.models import Card, Member
from services.membership.transfers.models import Transfer


async def seen(session: AsyncSession, event_id: str) -> bool:
    return await session.get(ProcessedEvent, event_id) is not None


async def mark_seen(session: AsyncSession, event_id: str, topic: str) -> None:
    session.add(ProcessedEvent(id=event_id, topic=topic))
    await session.flush()


async def erase_account(session: AsyncSession, account_id: str) -> str | None:
    """Erase the personal data of one account; the member row stays (ids only) for the records the
    law keeps. Live QR codes stay (they hold no personal data and die within 60 s); checking one
    now answers not_a_member. Returns the member id, if any."""
    member_id = await session.scalar(select(Member.id).where(Member.account_id == account_id))
    await session.execute(update(Application).where(Application.account_id == account_id).values(
        real_name_enc=None, real_name_masked=None, id_number_enc=None, id_number_hash=None, id_number_masked=None,
        employer_name=None, reason=None))
    await session.execute(update(Application).where(Application.account_id == account_id,
                                                    Application.status == "pending")
                          .values(status="withdrawn", pending_key=None))
    await session.execute(update(Transfer).where(Transfer.account_id == account_id).values(reason=None))
    await session.execute(update(Transfer).where(Transfer.account_id == account_id, Transfer.status == "pending")
                          .values(status="cancelled", pending_key=None))
    if member_id is not None:
        await session.execute(update(Member).where(Member.id == member_id).values(
            status="closed", real_name_enc=None, real_name_masked=None, id_number_enc=None, id_number_hash=None,
            id_number_masked=None, status_reason=None))
        await session.execute(update(Card).where(Card.member_id == member_id).values(status="revoked"))
    return member_id
