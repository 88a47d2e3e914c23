"""Redemption: the money path. Order (CONTRACT §5 and docs/benefits.md):

signature (dependency) → idempotency claim → offer live and owned → QR token *checked* (not yet
consumed) → member active and eligible → minimum spend → per-member limit and total quota read
(advisory) → QR token *consumed* → one transaction: conditional per-member counter upsert,
conditional quota update, insert, idempotency answer → commit.

Everything that can refuse the request is checked before the token is consumed, so the usual
refusals leave the member's code alive. Only a lost race (another redemption took the last
quota or the member's last use in between) fails after the consume; then the token is released
(membership undoes the consume) and the specific error is answered. Limits are never decided by
the advisory reads: only by the conditional statements inside the transaction.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, date, datetime, time, timedelta, timezone

from sqlalchemy.ext.asyncio import AsyncSession

from services.benefits.membership import MembershipClient, QrMember, QrResult
from services.benefits.merchant_api import idempotency
from services.benefits.merchant_api import repository as idem_repo
from services.benefits.merchant_api.auth import MerchantCaller
from services.benefits.merchant_api.errors import (
    InvalidDateRange,
    LimitReached,
    MemberNotActive,
    MinSpendNotMet,
    NotEligible,
    OfferNotActive,
    OfferNotOwned,
    QrTokenExpired,
    QrTokenInvalid,
    QrTokenUsed,
    QuotaExhausted,
)
from services.benefits.offers import repository as offers
from services.benefits.offers.models import Offer
from services.benefits.redemptions import repository
from services.benefits.redemptions.models import Redemption
from services.benefits.redemptions.schemas import (
    RedeemIn,
    RedemptionCreated,
    Statement,
    StatementLine,
    VerifiedMember,
    VerifyOut,
)
from services.benefits.sessions import transaction
from services.common.db import Database, utcnow
from services.common.errors import ProblemError

logger = logging.getLogger("smartunion.benefits.redemptions")

# Asia/Shanghai has been UTC+8 without daylight saving since 1991; a fixed offset needs no tzdata.
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")


def period_key(period: str, at: datetime) -> str:
    local = at.astimezone(SHANGHAI)
    if period == "day":
        return local.strftime("%Y-%m-%d")
    if period == "week":
        iso = local.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    if period == "month":
        return local.strftime("%Y-%m")
    return "total"


def compute_discount(offer: Offer, order_fen: int) -> tuple[int, int]:
    """(discount, payable): percent_off → ⌊order × value / 100⌋, amount_off → min(value, order),
    then capped by max_discount_fen."""
    discount = order_fen * offer.value // 100 if offer.discount_type == "percent_off" else min(offer.value, order_fen)
    if offer.max_discount_fen is not None:
        discount = min(discount, offer.max_discount_fen)
    return discount, order_fen - discount


def local_day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, end+1 00:00) in Shanghai, as UTC instants."""
    lo = datetime.combine(start, time.min, SHANGHAI).astimezone(UTC)
    hi = datetime.combine(end + timedelta(days=1), time.min, SHANGHAI).astimezone(UTC)
    return lo, hi


# -- verification ---------------------------------------------------------------------------------
async def verify(*, membership: MembershipClient, token: str) -> VerifyOut:
    result = await membership.check(token)
    m = result.member
    member = VerifiedMember(name_masked=m.name_masked, card_no_masked=m.card_no_masked,
                            org_name=m.org_name) if m else None
    return VerifyOut(valid=result.valid, reason=None if result.valid else (result.reason or "invalid"), member=member)


# -- redemption -----------------------------------------------------------------------------------
def _token_error(result: QrResult) -> ProblemError:
    reason = result.reason
    if reason == "expired":
        return QrTokenExpired()
    if reason == "used":
        return QrTokenUsed()
    if reason in ("suspended", "not_a_member"):
        return MemberNotActive()
    return QrTokenInvalid()


def _check_member(offer: Offer, member: QrMember | None) -> QrMember:
    if member is None or member.status != "active":
        raise MemberNotActive
    if offer.eligible_org_path is not None and not (member.org_path or "").startswith(offer.eligible_org_path):
        raise NotEligible
    return member


async def _release(membership: MembershipClient, token: str) -> None:
    try:
        released = await asyncio.shield(membership.release(token))
    except (ProblemError, asyncio.CancelledError):
        released = False
    if not released:
        logger.warning("qr token release failed")


async def redeem(*, db: Database, membership: MembershipClient, caller: MerchantCaller, key: str,
                 body: RedeemIn, wait: float) -> tuple[int, dict[str, object], bool]:
    """Returns (status, JSON body, replayed). Business refusals are raised as ProblemError after
    being stored for replay."""
    fp = idempotency.fingerprint("POST", "/api/v1/merchant/redemptions", body.model_dump())
    claim = await idempotency.claim(db, merchant_id=caller.merchant_id, key=key, fp=fp, wait=wait)
    if claim.replay is not None:
        stored = claim.replay
        if stored.status >= 400:
            raise ProblemError(str(stored.body.get("detail", "")), code=str(stored.body.get("code")),
                               status=stored.status)
        return stored.status, stored.body, True
    record_id = claim.record_id
    assert record_id is not None
    try:
        answer = await _redeem(db=db, membership=membership, caller=caller, body=body, record_id=record_id)
    except ProblemError as exc:
        if exc.status >= 500:
            await idempotency.forget(db, record_id)
        else:
            await idempotency.store_error(db, record_id, status=exc.status, code=exc.code, detail=exc.detail)
        raise
    except BaseException:
        await asyncio.shield(idempotency.forget(db, record_id))
        raise
    return 201, answer, False


async def _redeem(*, db: Database, membership: MembershipClient, caller: MerchantCaller, body: RedeemIn,
                  record_id: str) -> dict[str, object]:
    now = utcnow()
    async with transaction(db, write=False) as session:
        offer = await offers.get(session, body.offer_id)
    if offer is None or offer.merchant_id != caller.merchant_id:
        raise OfferNotOwned
    if not offer.starts_at <= now < offer.ends_at:
        raise OfferNotActive

    checked = await membership.check(body.qr_token)
    if not checked.valid:
        raise _token_error(checked)
    member = _check_member(offer, checked.member)
    if body.order_amount_fen < offer.min_spend_fen:
        raise MinSpendNotMet
    period = period_key(offer.limit_period, now)
    await _advisory_limits(db, offer, member.member_id, period)
    discount, payable = compute_discount(offer, body.order_amount_fen)

    try:
        consumed = await membership.consume(body.qr_token)
    except ProblemError:
        # Unknown outcome (membership timed out or failed): undo a consume that may have happened.
        await _release(membership, body.qr_token)
        raise
    if not consumed.valid:
        raise _token_error(consumed)
    try:
        # The member may have been suspended or moved between check and consume.
        member = _check_member(offer, consumed.member)
        async with transaction(db, write=True) as session:
            answer = await _record(session, offer=offer, member=member, caller=caller, body=body, period=period,
                                   discount=discount, payable=payable, record_id=record_id)
            await session.commit()
    except BaseException:
        await _release(membership, body.qr_token)
        raise
    logger.info("redemption recorded", extra={"fields": {"redemption_id": answer["id"], "offer_id": offer.id,
                                                          "merchant_id": caller.merchant_id}})
    return answer


async def _advisory_limits(db: Database, offer: Offer, member_id: str, period: str) -> None:
    """Refuse early (token still alive) when the limit or quota is already used up. Not a
    guarantee: the conditional statements in _record decide."""
    async with transaction(db, write=False) as session:
        used = await repository.counter_used(session, offer_id=offer.id, member_id=member_id, period_key=period)
        fresh = await offers.get(session, offer.id)
    if used >= offer.per_member_limit:
        raise LimitReached
    if fresh is not None and fresh.total_quota is not None and fresh.used_count >= fresh.total_quota:
        raise QuotaExhausted


async def _record(session: AsyncSession, *, offer: Offer, member: QrMember, caller: MerchantCaller, body: RedeemIn,
                  period: str, discount: int, payable: int, record_id: str) -> dict[str, object]:
    if not await repository.bump_counter(session, offer_id=offer.id, member_id=member.member_id, period_key=period,
                                         limit=offer.per_member_limit):
        raise LimitReached
    if offer.total_quota is not None and not await repository.bump_quota(session, offer.id):
        raise QuotaExhausted
    redemption = Redemption(merchant_id=caller.merchant_id, offer_id=offer.id, merchant_org_path=offer.org_path,
                            member_id=member.member_id, account_id=member.account_id,
                            card_no_masked=member.card_no_masked, order_amount_fen=body.order_amount_fen,
                            discount_fen=discount, payable_fen=payable, period_key=period, key_id=caller.key_id,
                            created_at=utcnow())
    await repository.add(session, redemption)
    answer = RedemptionCreated(id=redemption.id, offer_id=offer.id, order_amount_fen=body.order_amount_fen,
                               discount_fen=discount, payable_fen=payable,
                               created_at=redemption.created_at).model_dump(mode="json")
    await idem_repo.finish_idempotency(session, record_id, status=201, body=json.dumps(answer))
    return answer


# -- statement ------------------------------------------------------------------------------------
async def statement(*, session: AsyncSession, merchant_id: str, start: date, end: date) -> Statement:
    if end < start or (end - start).days > 366:
        raise InvalidDateRange
    lo, hi = local_day_bounds(start, end)
    rows = await repository.statement(session, merchant_id, start=lo, end=hi)
    lines = [StatementLine(offer_id=r[0], offer_title=r[1], count=int(r[2]), order_total_fen=int(r[3]),
                           discount_total_fen=int(r[4]), payable_total_fen=int(r[5])) for r in rows]
    return Statement(merchant_id=merchant_id, from_date=start, to_date=end, count=sum(x.count for x in lines),
                     order_total_fen=sum(x.order_total_fen for x in lines),
                     discount_total_fen=sum(x.discount_total_fen for x in lines),
                     payable_total_fen=sum(x.payable_total_fen for x in lines), offers=lines)
