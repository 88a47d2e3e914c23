from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from services.legal_aid.tickets.models import CLOCK_RUNNING, Rating, Ticket, TicketEvent


def _like_prefix(prefix: str) -> str:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


async def get(session: AsyncSession, ticket_id: str, *, for_update: bool = False) -> Ticket | None:
    stmt = select(Ticket).where(Ticket.id == ticket_id)
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt.execution_options(populate_existing=for_update))


async def add(session: AsyncSession, ticket: Ticket) -> Ticket:
    session.add(ticket)
    await session.flush()
    return ticket


def overdue_clause(now: datetime) -> ColumnElement[bool]:
    return and_(Ticket.first_response_at.is_(None), Ticket.status.in_(CLOCK_RUNNING),
                Ticket.first_response_due_at <= now)


async def list_visible(session: AsyncSession, *, account_id: str, is_admin: bool, staff_path: str | None,
                       status: str | None, overdue: bool | None, now: datetime, sort: str,
                       after: list[Any] | None, limit: int) -> list[Ticket]:
    """Tickets the caller may see: own, assigned, and (staff) the org subtree; admin all."""
    stmt = select(Ticket)
    if not is_admin:
        # A union of index lookups: written as one OR, both SQLite and PostgreSQL tend to walk the
        # primary key in ORDER BY order and filter, which reads most of the table for a member
        # with a handful of tickets (measured in bench/legal_aid.md).
        branches = [select(Ticket.id).where(Ticket.owner_id == account_id),
                    select(Ticket.id).where(Ticket.assignee_id == account_id)]
        if staff_path:
            branches.append(select(Ticket.id).where(Ticket.org_path.like(_like_prefix(staff_path), escape="\\")))
        stmt = stmt.where(Ticket.id.in_(union(*branches)))
    if status is not None:
        stmt = stmt.where(Ticket.status == status)
    if overdue is True:
        stmt = stmt.where(overdue_clause(now))
    elif overdue is False:
        stmt = stmt.where(~overdue_clause(now))
    if sort == "due":
        if after is not None:
            due, last_id = after
            stmt = stmt.where(or_(Ticket.first_response_due_at > due,
                                  and_(Ticket.first_response_due_at == due, Ticket.id > last_id)))
        stmt = stmt.order_by(Ticket.first_response_due_at, Ticket.id)
    else:
        if after is not None:
            stmt = stmt.where(Ticket.id < after[0])
        stmt = stmt.order_by(Ticket.id.desc())
    return list(await session.scalars(stmt.limit(limit)))


async def of_owner(session: AsyncSession, owner_id: str) -> list[Ticket]:
    return list(await session.scalars(select(Ticket).where(Ticket.owner_id == owner_id).with_for_update()))


async def add_event(session: AsyncSession, event: TicketEvent) -> None:
    session.add(event)
    await session.flush()


async def events(session: AsyncSession, ticket_id: str, *, after: str | None, limit: int) -> list[TicketEvent]:
    stmt = select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
    if after is not None:
        stmt = stmt.where(TicketEvent.id > after)
    return list(await session.scalars(stmt.order_by(TicketEvent.id).limit(limit)))


async def rating(session: AsyncSession, ticket_id: str) -> Rating | None:
    return await session.get(Rating, ticket_id)


async def ratings_for(session: AsyncSession, ticket_ids: list[str]) -> dict[str, Rating]:
    if not ticket_ids:
        return {}
    rows = await session.scalars(select(Rating).where(Rating.ticket_id.in_(ticket_ids)))
    return {r.ticket_id: r for r in rows}


async def add_rating(session: AsyncSession, rating: Rating) -> None:
    session.add(rating)
    await session.flush()
