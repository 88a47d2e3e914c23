"""The merchant API (POS systems): authenticated by request signature, not by token."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse

from services.benefits.deps import DatabaseDep, MembershipDep, SettingsDep
from services.benefits.merchant_api.auth import MerchantDep
from services.benefits.merchant_api.errors import IdempotencyKeyRequired
from services.benefits.redemptions import repository as redemptions
from services.benefits.redemptions import service
from services.benefits.redemptions.schemas import (
    MerchantRedemptionList,
    MerchantRedemptionRead,
    RedeemIn,
    RedemptionCreated,
    Statement,
    VerifyIn,
    VerifyOut,
)
from services.common.db import SessionDep
from services.common.pagination import Cursor, Limit, decode_cursor, encode_cursor

router = APIRouter(prefix="/api/v1/merchant", tags=["merchant API"])

SIGNED = {"401": {"description": "unknown_merchant_key, signature_invalid, timestamp_skew or nonce_reused"}}


@router.post("/verify", response_model=VerifyOut, responses=SIGNED)  # type: ignore[arg-type]
async def verify(body: VerifyIn, _: MerchantDep, membership: MembershipDep) -> VerifyOut:
    """Check a member's QR code at the till. Never consumes it."""
    return await service.verify(membership=membership, token=body.qr_token)


@router.post("/redemptions", status_code=201, response_model=RedemptionCreated, responses=SIGNED)  # type: ignore[arg-type]
async def redeem(
    body: RedeemIn,
    caller: MerchantDep,
    db: DatabaseDep,
    membership: MembershipDep,
    settings: SettingsDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    """Record a discount: consumes the QR code. Same Idempotency-Key and body again → the same
    answer and nothing new."""
    if not idempotency_key or len(idempotency_key) > 255:
        raise IdempotencyKeyRequired
    status, answer, replayed = await service.redeem(db=db, membership=membership, caller=caller,
                                                    key=idempotency_key, body=body, wait=settings.idempotency_wait)
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    return JSONResponse(answer, status_code=status, headers=headers)


@router.get("/redemptions", response_model=MerchantRedemptionList, responses=SIGNED)  # type: ignore[arg-type]
async def list_redemptions(caller: MerchantDep, session: SessionDep, limit: Limit = 20,
                           cursor: Cursor = None) -> MerchantRedemptionList:
    """This merchant's redemptions, newest first."""
    after = decode_cursor(cursor)
    rows = await redemptions.for_merchant(session, caller.merchant_id, before=str(after[0]) if after else None,
                                          limit=limit + 1)
    nxt = encode_cursor([rows[limit - 1][0].id]) if len(rows) > limit else None
    return MerchantRedemptionList(items=[MerchantRedemptionRead(
        id=r.id, offer_id=r.offer_id, offer_title=title, order_amount_fen=r.order_amount_fen,
        discount_fen=r.discount_fen, payable_fen=r.payable_fen, card_no_masked=r.card_no_masked,
        created_at=r.created_at) for r, title in rows[:limit]], next_cursor=nxt)


@router.get("/statement", response_model=Statement, response_model_by_alias=True, responses=SIGNED)  # type: ignore[arg-type]
async def statement(caller: MerchantDep, session: SessionDep,
                    from_date: Annotated[date, Query(alias="from")],
                    to_date: Annotated[date, Query(alias="to")]) -> Statement:
    """Totals of this merchant's redemptions between two Asia/Shanghai calendar days (inclusive),
    per offer and overall."""
    return await service.statement(session=session, merchant_id=caller.merchant_id, start=from_date, end=to_date)
