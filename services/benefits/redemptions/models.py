from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from services.benefits.database import Base
from services.common.db import UtcDateTime, utcnow
from services.common.ids import new_id


class Redemption(Base):
    """A discount given. Amounts and dates are kept for the accounts (and the law); the link to
    the person (member, account, masked card) is erased when the account is closed."""

    __tablename__ = "redemptions"
    __table_args__ = (
        Index("ix_redemptions_merchant_created", "merchant_id", "created_at"),
        Index("ix_redemptions_account_created", "account_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"))
    offer_id: Mapped[str] = mapped_column(ForeignKey("offers.id"), index=True)
    merchant_org_path: Mapped[str | None] = mapped_column(String(1024))
    member_id: Mapped[str | None] = mapped_column(String(64), index=True)
    account_id: Mapped[str | None] = mapped_column(String(64))
    card_no_masked: Mapped[str | None] = mapped_column(String(40))
    order_amount_fen: Mapped[int] = mapped_column(Integer)
    discount_fen: Mapped[int] = mapped_column(Integer)
    payable_fen: Mapped[int] = mapped_column(Integer)
    period_key: Mapped[str] = mapped_column(String(16))
    key_id: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class RedemptionCounter(Base):
    """How often a member used an offer in one limit period ("2026-11-22", "2026-W47",
    "2026-11" or "total", Asia/Shanghai). Raised by an upsert whose update only fires while
    `used < per_member_limit`, so concurrent redemptions cannot overshoot."""

    __tablename__ = "redemption_counters"
    __table_args__ = (CheckConstraint("used >= 0", name="used_non_negative"),)

    offer_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    period_key: Mapped[str] = mapped_column(String(16), primary_key=True)
    used: Mapped[int] = mapped_column(Integer, default=0)
