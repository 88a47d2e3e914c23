from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.benefits.database import Base
from services.common.db import UtcDateTime, utcnow
from services.common.ids import new_id


class UsedNonce(Base):
    """Nonces seen within the signature window (the default nonce store; Redis replaces it when
    REDIS_URL is set). The primary key makes "first one wins" a database guarantee."""

    __tablename__ = "used_nonces"

    key_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class IdempotencyRecord(Base):
    """One row per (merchant, Idempotency-Key): the request's fingerprint and, once finished, the
    answer to replay. The unique constraint decides which of two concurrent duplicates runs."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("merchant_id", "key", name="uq_idempotency_records_merchant_key"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    merchant_id: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending | done
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
