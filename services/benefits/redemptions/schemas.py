from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from services.benefits.offers.schemas import MAX_FEN


class VerifyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    qr_token: str = Field(min_length=1, max_length=512)


class VerifiedMember(BaseModel):
    name_masked: str | None
    card_no_masked: str | None
    org_name: str | None


class VerifyOut(BaseModel):
    valid: bool
    reason: str | None
    member: VerifiedMember | None


class RedeemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    qr_token: str = Field(min_length=1, max_length=512)
    offer_id: str = Field(min_length=1, max_length=64)
    order_amount_fen: int = Field(ge=1, le=MAX_FEN)


class RedemptionCreated(BaseModel):
    id: str
    offer_id: str
    order_amount_fen: int
    discount_fen: int
    payable_fen: int
    created_at: datetime


class MerchantRedemptionRead(BaseModel):
    id: str
    offer_id: str
    offer_title: str
    order_amount_fen: int
    discount_fen: int
    payable_fen: int
    card_no_masked: str | None
    created_at: datetime


class MerchantRedemptionList(BaseModel):
    items: list[MerchantRedemptionRead]
    next_cursor: str | None = None


class MemberRedemptionRead(BaseModel):
    id: str
    offer_id: str
    offer_title: str
    merchant_id: str
    merchant_name: str
    order_amount_fen: int
    discount_fen: int
    payable_fen: int
    created_at: datetime


class MemberRedemptionList(BaseModel):
    items: list[MemberRedemptionRead]
    next_cursor: str | None = None


class StatementLine(BaseModel):
    offer_id: str
    offer_title: str
    count: int
    order_total_fen: int
    discount_total_fen: int
    payable_total_fen: int


class Statement(BaseModel):
    merchant_id: str
    from_date: date = Field(serialization_alias="from")
    to_date: date = Field(serialization_alias="to")
    timezone: str = "Asia/Shanghai"
    count: int
    order_total_fen: int
    discount_total_fen: int
    payable_total_fen: int
    offers: list[StatementLine]
