from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import UtcDateTime, utcnow
from services.common.ids import new_id
from services.identity.database import Base


class LoginFailure(Base):
    """A failed password login, kept in the database so the lockout holds across replicas."""

    __tablename__ = "login_failures"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
