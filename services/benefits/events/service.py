"""Facts from other services. account.closed (PIPL art. 47): the person's redemptions keep their
amounts and dates but lose every link to the person."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from services.benefits.redemptions import repository as redemptions

logger = logging.getLogger("smartunion.benefits.events")


async def handle(*, session: AsyncSession, topic: str, payload: dict[str, object]) -> bool:
    if topic != "account.closed":
        return False
    account_id = payload.get("account_id")
    if not isinstance(account_id, str) or not account_id:
        return True
    count = await redemptions.anonymise_account(session, account_id)
    logger.info("account erased", extra={"fields": {"account_id": account_id, "redemptions": count}})
    return True
