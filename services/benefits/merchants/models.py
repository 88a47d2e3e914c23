from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from services.benefits.database import Base
from services.common.db import UtcDateTime, utcnow
from services.common.ids import new_id


class Merchant(Base):
    """A partner shop. `org_path` is the owning org's materialised path, so "merchants in my
    subtree" is an indexed prefix query; (lat, lng) is indexed for the nearby bounding box."""

    __tablename__ = "merchants"
    __table_args__ = (
        CheckConstraint("lat >= -90 AND lat <= 90", name="lat_range"),
        CheckConstraint("lng >= -180 AND lng <= 180", name="lng_range"),
        Index("ix_merchants_lat_lng", "lat", "lng"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str | None] = mapped_column(String(64))
    org_path: Mapped[str | None] = mapped_column(String(1024), index=True)
    name: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(16), index=True)
    address: Mapped[str] = mapped_column(String(200))
    lat: Mapped[float] = mapped_column(Float)
    lng: Mapped[float] = mapped_column(Float)
    # The shop's business phone, not a person's: shown as entered.
    phone: Mapped[str | None] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class MerchantKey(Base):
    """An API credential. The server needs the secret itself to check HMACs, so it is stored
    encrypted (AES-GCM via PiiCipher, bound to the key id), never hashed and never in clear.
    A merchant may hold several active keys (rotation); revocation is a timestamp read on every
    request, so it holds on every replica at once."""

    __tablename__ = "merchant_keys"

    key_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"), index=True)
    secret_enc: Mapped[str] = mapped_column(String(300))
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
