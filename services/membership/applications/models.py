from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import UtcDateTime, utcnow
from services.common.ids import new_id
from services.membership.database import Base, PathString


class Application(Base):
    """An online membership application (网上入会). Real name and ID number are encrypted
    (AES-GCM, key id inside the stored value), looked up by keyed hash, kept masked for answers."""

    __tablename__ = "applications"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(String(32), index=True)
    org_id: Mapped[str] = mapped_column(String(32))
    org_path: Mapped[str] = mapped_column(PathString, index=True)
    real_name_enc: Mapped[str | None] = mapped_column(String(300))
    real_name_masked: Mapped[str | None] = mapped_column(String(64))
    id_number_enc: Mapped[str | None] = mapped_column(String(300))
    id_number_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    id_number_masked: Mapped[str | None] = mapped_column(String(32))
    employer_name: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|approved|rejected|withdrawn
    reason: Mapped[str | None] = mapped_column(String(500))
    member_id: Mapped[str | None] = mapped_column(String(32))
    decided_by: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # = account_id while pending, NULL otherwise: the unique constraint makes "one pending
    # application per account" hold under concurrent submissions on every database.
    pending_key: Mapped[str | None] = mapped_column(String(32), unique=True)
