"""Redemption histories for members and staff (the merchant's own are in merchant_api)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from services.benefits.deps import MembershipDep, ScopeDep
from services.benefits.merchants import service as merchants
from services.benefits.redemptions import repository, service
from services.benefits.redemptions.schemas import (
    MemberRedemptionList,
    MemberRedemptionRead,
    MerchantRedemptionList,
    MerchantRedemptionRead,
    Statement,
)
from services.common.auth import PrincipalDep
from services.common.db import SessionDep
from services.common.pagination import Cursor, Limit, decode_cursor, encode_cursor

router = APIRouter(prefix="/api/v1/benefits", tags=["redemptions"])


@router.get("/redemptions/mine", response_model=MemberRedemptionList)
async def mine(principal: PrincipalDep, membership: MembershipDep, session: SessionDep, limit: Limit = 20,
               cursor: Cursor = None) -> MemberRedemptionList:
    """The member's own redemptions, newest first (404 not_a_member for non-members)."""
    await membership.member_by_account(principal.account_id)
    after = decode_cursor(cursor)
    rows = await repository.for_account(session, principal.account_id, before=str(after[0]) if after else None,
                                        limit=limit + 1)
    nxt = encode_cursor([rows[limit - 1][0].id]) if len(rows) > limit else None
    return MemberRedemptionList(items=[MemberRedemptionRead(
        id=r.id, offer_id=r.offer_id, offer_title=title, merchant_id=r.merchant_id, merchant_name=name,
        order_amount_fen=r.order_amount_fen, discount_fen=r.discount_fen, payable_fen=r.payable_fen,
        created_at=r.created_at) for r, title, name in rows[:limit]], next_cursor=nxt)


@router.get("/merchants/{merchant_id}/redemptions", response_model=MerchantRedemptionList)
async def merchant_redemptions(merchant_id: str, scope: ScopeDep, session: SessionDep, limit: Limit = 20,
                               cursor: Cursor = None) -> MerchantRedemptionList:
    """A merchant's redemptions, newest first (staff in scope, admin)."""
    merchant = await merchants.get_in_scope(session=session, merchant_id=merchant_id, scope=scope)
    after = decode_cursor(cursor)
    rows = await repository.for_merchant(session, merchant.id, before=str(after[0]) if after else None,
                                         limit=limit + 1)
    nxt = encode_cursor([rows[limit - 1][0].id]) if len(rows) > limit else None
    return MerchantRedemptionList(items=[MerchantRedemptionRead(
        id=r.id, offer_id=r.offer_id, offer_title=title, order_amount_fen=r.order_amount_fen,
        discount_fen=r.discount_fen, payable_fen=r.payable_fen, card_no_masked=r.card_no_masked,
        created_at=r.created_at) for r, title in rows[:limit]], next_cursor=nxt)


@router.get("/merchants/{merchant_id}/statement", response_model=Statement, response_model_by_alias=True)
async def merchant_statement(merchant_id: str, scope: ScopeDep, session: SessionDep,
                             from_date: Annotated[date, Query(alias="from")],
                             to_date: Annotated[date, Query(alias="to")]) -> Statement:
    """The same statement the merchant sees, for staff in scope."""
    merchant = await merchants.get_in_scope(session=session, merchant_id=merchant_id, scope=scope)
    return await service.statement(session=session, merchant_id=merchant.id, start=from_date, end=to_date)
