from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import UtcDateTime
from services.membership.database import Base


class QrToken(Base):
    """One issued QR code. The token itself carries only this row's random id, its expiry and a
    MAC; `used_at` is set by a conditional UPDATE, so exactly one consumer wins on any database
    and across replicas."""

    __tablename__ = "qr_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(32), index=True)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    used_by: Mapped[str | None] = mapped_column(String(32))
