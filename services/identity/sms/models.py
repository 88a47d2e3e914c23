from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import UtcDateTime, utcnow
from services.common.ids import new_id
from services.identity.database import Base


class SmsCode(Base):
    """A login code sent to a phone. Neither the phone nor the code is stored in the clear."""

    __tablename__ = "sms_codes"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    phone_hash: Mapped[str] = mapped_column(String(64), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    dead: Mapped[bool] = mapped_column(Boolean, default=False)
