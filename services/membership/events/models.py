from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import UtcDateTime, utcnow
from services.common.outbox import OutboxMixin
from services.membership.database import Base


class ProcessedEvent(Base):
    """Events already handled, so a redelivered event is acknowledged without work."""

    __tablename__ = "processed_events"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    topic: Mapped[str] = mapped_column(String(64))
    processed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class OutboxEvent(OutboxMixin, Base):
    """Facts other services need (notifications for identity's inbox), written in the same
    transaction as the fact and delivered at least once by the relay."""

    __tablename__ = "outbox_events"
