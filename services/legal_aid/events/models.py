from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import UtcDateTime, utcnow
from services.common.outbox import OutboxMixin
from services.legal_aid.database import Base


class ProcessedEvent(Base):
    """Events from other services already handled (delivery is at least once)."""

    __tablename__ = "processed_events"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    topic: Mapped[str] = mapped_column(String(64))
    processed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class OutboxEvent(OutboxMixin, Base):
    """Facts the ticket owner should hear about (a reply, a status change) as notifications for
    identity's inbox, written in the same transaction and delivered at least once by the relay."""

    __tablename__ = "outbox_events"
