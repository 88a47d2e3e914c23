from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import UtcDateTime, utcnow
from services.common.ids import new_id
from services.membership.database import Base, PathString


class Member(Base):
    """A union member. `status`: active | suspended | closed (account deleted: personal data
    erased, the row stays so that redemption records and the audit trail keep their ids)."""

    __tablename__ = "members"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    org_id: Mapped[str] = mapped_column(String(32))
    org_path: Mapped[str] = mapped_column(PathString, index=True)
    real_name_enc: Mapped[str | None] = mapped_column(String(300))
    real_name_masked: Mapped[str | None] = mapped_column(String(64))
    id_number_enc: Mapped[str | None] = mapped_column(String(300))
    # One member per person: unique keyed hash of the ID number (NULL once erased).
    id_number_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    id_number_masked: Mapped[str | None] = mapped_column(String(32))
    application_id: Mapped[str | None] = mapped_column(String(32))
    status_reason: Mapped[str | None] = mapped_column(String(500))
    joined_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class Card(Base):
    """The member card. Its number carries a Luhn check digit and survives transfers."""

    __tablename__ = "cards"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"), unique=True)
    card_no: Mapped[str] = mapped_column(String(20), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | suspended | revoked
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
