from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import UtcDateTime, utcnow
from services.common.ids import new_id
from services.membership.database import Base, PathString


class Transfer(Base):
    """会员关系转移接续: a member's move to another union, decided by staff of the target."""

    __tablename__ = "transfers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    member_id: Mapped[str] = mapped_column(String(32), index=True)
    account_id: Mapped[str] = mapped_column(String(32), index=True)
    from_org_id: Mapped[str] = mapped_column(String(32))
    from_org_path: Mapped[str] = mapped_column(PathString)
    to_org_id: Mapped[str] = mapped_column(String(32))
    to_org_path: Mapped[str] = mapped_column(PathString, index=True)
    reason: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|completed|rejected|cancelled
    decision_reason: Mapped[str | None] = mapped_column(String(500))
    decided_by: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # = member_id while pending: one open transfer per member, enforced by the database.
    pending_key: Mapped[str | None] = mapped_column(String(32), unique=True)
