from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.benefits.database import Base
from services.common.db import UtcDateTime, utcnow
from services.common.ids import new_id


class Offer(Base):
    """A discount at one merchant. `used_count` is the total-quota counter, raised by a conditional
    UPDATE (… WHERE used_count < total_quota) inside the redemption transaction; the CHECK is the
    database's own guarantee that no race can push it past the quota."""

    __tablename__ = "offers"
    __table_args__ = (
        CheckConstraint("total_quota IS NULL OR used_count <= total_quota", name="quota_not_exceeded"),
        CheckConstraint("used_count >= 0", name="used_count_non_negative"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("per_member_limit >= 1", name="per_member_limit_positive"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"), index=True)
    org_path: Mapped[str | None] = mapped_column(String(1024), index=True)
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    discount_type: Mapped[str] = mapped_column(String(16))
    value: Mapped[int] = mapped_column(Integer)
    min_spend_fen: Mapped[int] = mapped_column(Integer, default=0)
    max_discount_fen: Mapped[int | None] = mapped_column(Integer)
    per_member_limit: Mapped[int] = mapped_column(Integer)
    limit_period: Mapped[str] = mapped_column(String(8))
    total_quota: Mapped[int | None] = mapped_column(Integer)
    used_count: Mapped[int] = mapped_column(Integer, default=0)
    eligible_org_id: Mapped[str | None] = mapped_column(String(64))
    eligible_org_path: Mapped[str | None] = mapped_column(String(1024))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
