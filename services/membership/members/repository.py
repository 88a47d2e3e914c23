from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.membership.members.models import Card, Member
from services.membership.orgs.models import Org
from services.membership.scope import subtree


async def get(session: AsyncSession, member_id: str, *, for_update: bool = False) -> Member | None:
    query = select(Member).where(Member.id == member_id)
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def by_account(session: AsyncSession, account_id: str) -> Member | None:
    return await session.scalar(select(Member).where(Member.account_id == account_id))


async def by_id_hash(session: AsyncSession, id_hash: str) -> Member | None:
    return await session.scalar(select(Member).where(Member.id_number_hash == id_hash))


async def card_of(session: AsyncSession, member_id: str) -> Card | None:
    return await session.scalar(select(Card).where(Card.member_id == member_id))


async def card_by_no(session: AsyncSession, card_no: str) -> Card | None:
    return await session.scalar(select(Card).where(Card.card_no == card_no))


async def with_card_and_org(session: AsyncSession, *, account_id: str | None = None,
                            member_id: str | None = None) -> tuple[Member, Card | None, Org] | None:
    query = (select(Member, Card, Org).outerjoin(Card, Card.member_id == Member.id)
             .join(Org, Org.id == Member.org_id))
    query = query.where(Member.account_id == account_id) if account_id else query.where(Member.id == member_id)
    row = (await session.execute(query)).first()
    return (row[0], row[1], row[2]) if row else None


async def in_subtree(session: AsyncSession, scope: str, *, status: str | None, before: str | None,
                     limit: int) -> list[Any]:
    query = (select(Member, Card, Org).outerjoin(Card, Card.member_id == Member.id)
             .join(Org, Org.id == Member.org_id).where(subtree(Member.org_path, scope), Member.status != "closed"))
    if status:
        query = query.where(Member.status == status)
    if before:
        query = query.where(Member.id < before)
    return list((await session.execute(query.order_by(Member.id.desc()).limit(limit))).all())


async def add(session: AsyncSession, member: Member, card: Card) -> None:
    session.add(member)
    await session.flush()
    session.add(card)
    await session.flush()
