from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, exists, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.fastread import FastReads
from services.membership.members.models import Card, Member
from services.membership.orgs.models import Org
from services.membership.qr.models import QrToken


async def add(session: AsyncSession, token: QrToken) -> None:
    session.add(token)
    await session.flush()


async def delete_expired_of(session: AsyncSession, member_id: str, now: datetime) -> None:
    await session.execute(delete(QrToken).where(QrToken.member_id == member_id, QrToken.expires_at < now))


async def delete_of(session: AsyncSession, member_id: str) -> None:
    await session.execute(delete(QrToken).where(QrToken.member_id == member_id))


# Token row, member, card and org in one indexed lookup (primary keys and unique keys only, so its
# cost does not grow with the number of members). Built once: the merchant verify path runs it on
# every request.
RESOLVE = (select(QrToken.used_at, Member.id, Member.account_id, Member.status, Member.real_name_masked,
                  Member.org_id, Member.org_path, Card.card_no, Org.name)
           .select_from(QrToken)
           .outerjoin(Member, Member.id == QrToken.member_id)
           .outerjoin(Card, Card.member_id == Member.id)
           .outerjoin(Org, Org.id == Member.org_id)
           .where(QrToken.id == bindparam("token_id")))


async def resolve(session: AsyncSession, token_id: str) -> Any | None:
    """RESOLVE inside the request's transaction (consume: read, then the conditional update)."""
    return (await session.execute(RESOLVE, {"token_id": token_id})).first()


async def resolve_read(reads: FastReads, token_id: str) -> Any | None:
    """RESOLVE on its own (the non-consuming check); used_at comes back raw: only tested for None."""
    return await reads.first(RESOLVE, {"token_id": token_id})


async def mark_used(session: AsyncSession, token_id: str, now: datetime, caller: str) -> bool:
    """The single-use guarantee: a conditional UPDATE. Concurrent consumers serialise on the row
    (PostgreSQL row lock, SQLite write lock); only the first sees used_at IS NULL."""
    active = exists().where(Member.id == QrToken.member_id, Member.status == "active")
    result: CursorResult[Any] = await session.execute(  # type: ignore[assignment]
        update(QrToken).where(QrToken.id == token_id, QrToken.used_at.is_(None), active)
        .values(used_at=now, used_by=caller).execution_options(synchronize_session=False))
    return result.rowcount == 1


async def release(session: AsyncSession, token_id: str, since: datetime) -> bool:
    result: CursorResult[Any] = await session.execute(  # type: ignore[assignment]
        update(QrToken).where(QrToken.id == token_id, QrToken.used_at.is_not(None), QrToken.used_at >= since)
        .values(used_at=None, used_by=None).execution_options(synchronize_session=False))
    return result.rowcount == 1
