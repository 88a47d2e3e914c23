from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import UtcDateTime, utcnow
from services.common.ids import new_id
from services.legal_aid.database import Base

CATEGORIES = ("wage_arrears", "labor_contract", "work_injury", "social_insurance", "dismissal", "other")
STATUSES = ("submitted", "accepted", "waiting_member", "resolved", "closed", "rejected")
# States in which the first-response clock runs (waiting_member pauses it; the rest ended it).
CLOCK_RUNNING = ("submitted", "accepted")


class Ticket(Base):
    """A consultation. Case text is sensitive (PIPL art. 28 may apply: health for work injuries,
    finances): title, description and employer are AES-GCM encrypted, bound to the ticket id."""

    __tablename__ = "tickets"
    __table_args__ = (
        # Staff list their subtree with `org_path LIKE '/root/child/%'`.
        Index("ix_tickets_org_path", "org_path", postgresql_ops={"org_path": "text_pattern_ops"}),
        Index("ix_tickets_status_due", "status", "first_response_due_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(String(32), index=True)
    org_id: Mapped[str] = mapped_column(String(32))
    org_path: Mapped[str] = mapped_column(String(1000))
    category: Mapped[str] = mapped_column(String(32))
    title_enc: Mapped[str] = mapped_column(Text)
    description_enc: Mapped[str] = mapped_column(Text)
    employer_name_enc: Mapped[str | None] = mapped_column(Text)
    amount_involved_fen: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    assignee_id: Mapped[str | None] = mapped_column(String(32), index=True)
    first_response_due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    paused_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    calendar_fallback: Mapped[bool] = mapped_column(Boolean, default=False)
    public_message_count: Mapped[int] = mapped_column(Integer, default=0)
    internal_message_count: Mapped[int] = mapped_column(Integer, default=0)
    anonymised_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class TicketEvent(Base):
    """The audit trail: every status change and (re-)assignment. Kept when the owner's account
    is closed (it holds ids and staff notes, no case text from the member)."""

    __tablename__ = "ticket_events"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    actor_id: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    from_assignee_id: Mapped[str | None] = mapped_column(String(32))
    to_assignee_id: Mapped[str | None] = mapped_column(String(32))
    note_enc: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Rating(Base):
    __tablename__ = "ratings"

    # One per ticket, enforced by the key (two concurrent ratings: one wins, one is 409).
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    score: Mapped[int] = mapped_column(Integer)
    comment_enc: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
