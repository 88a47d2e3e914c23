from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

MAX_FEN = 1_000_000_000  # 10 million yuan: more than any single purchase, well inside a 32-bit column


class OfferCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    merchant_id: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=2000)
    discount_type: Literal["percent_off", "amount_off"]
    value: int = Field(ge=1, le=MAX_FEN, description="a percentage (1..99) or fen")
    min_spend_fen: int = Field(default=0, ge=0, le=MAX_FEN)
    max_discount_fen: int | None = Field(default=None, ge=1, le=MAX_FEN)
    per_member_limit: int = Field(default=1, ge=1, le=10_000)
    limit_period: Literal["day", "week", "month", "total"] = "total"
    total_quota: int | None = Field(default=None, ge=1, le=MAX_FEN)
    eligible_org_id: str | None = Field(default=None, max_length=64)
    starts_at: AwareDatetime
    ends_at: AwareDatetime

    @model_validator(mode="after")
    def _rules(self) -> OfferCreate:
        if self.discount_type == "percent_off" and not 1 <= self.value <= 99:
            raise ValueError("percent_off value must be 1..99")
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class MerchantBrief(BaseModel):
    id: str
    name: str
    category: str
    address: str
    lat: float
    lng: float


class OfferRead(BaseModel):
    id: str
    merchant_id: str
    title: str
    description: str
    discount_type: str
    value: int
    min_spend_fen: int
    max_discount_fen: int | None
    per_member_limit: int
    limit_period: str
    total_quota: int | None
    remaining_quota: int | None
    eligible_org_id: str | None
    starts_at: datetime
    ends_at: datetime
    live: bool
    created_at: datetime
    merchant: MerchantBrief
    distance_m: int | None = None


class OfferList(BaseModel):
    items: list[OfferRead]
    next_cursor: str | None = None
