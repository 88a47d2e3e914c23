"""Issue, check, consume and release rotating QR codes.

Check order: MAC (invalid) → expiry (expired) → row / member (invalid / not_a_member) →
suspended → used. Consumption is one conditional UPDATE, so it is atomic on SQLite and
PostgreSQL and across any number of replicas; a suspended member's code is never consumed.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.errors import RateLimited
from services.common.fastread import FastReads
from services.common.kv import KeyValueStore
from services.membership.config import MembershipSettings
from services.membership.members.errors import MemberNotActive
from services.membership.members.models import Member
from services.membership.qr import repository
from services.membership.qr.codec import QrCodec, mask_card_no
from services.membership.qr.models import QrToken
from services.membership.qr.schemas import QrCheck, QrIssued, QrMember


async def issue(*, session: AsyncSession, member: Member, codec: QrCodec, settings: MembershipSettings,
                kv: KeyValueStore) -> QrIssued:
    if member.status != "active":
        raise MemberNotActive
    allowed, retry = await kv.hit(f"qr:{member.id}", int(settings.qr_issue_per_minute * settings.rate_limit_scale),
                                  60)
    if not allowed:
        raise RateLimited(retry)
    expires = int(time.time()) + settings.qr_ttl
    token, token_id = codec.issue(expires)
    expires_at = datetime.fromtimestamp(expires, UTC)
    await repository.delete_expired_of(session, member.id, datetime.now(UTC))
    await repository.add(session, QrToken(id=token_id, member_id=member.id, expires_at=expires_at))
    return QrIssued(token=token, expires_at=expires_at)


def _invalid(reason: str) -> QrCheck:
    return QrCheck(valid=False, reason=reason, member=None)  # type: ignore[arg-type]


async def check(*, session: AsyncSession, token: str, codec: QrCodec) -> tuple[QrCheck, str | None]:
    """The verdict, and the token's row id when the token is authentic and unexpired."""
    parsed = codec.parse(token)
    if parsed is None:
        return _invalid("invalid"), None
    if parsed.expires_at <= time.time():
        return _invalid("expired"), None
    return _verdict(await repository.resolve(session, parsed.token_id), parsed.token_id)


async def check_only(*, reads: FastReads, token: str, codec: QrCodec) -> QrCheck:
    """check() for the internal non-consuming check: one indexed read, no session."""
    parsed = codec.parse(token)
    if parsed is None:
        return _invalid("invalid")
    if parsed.expires_at <= time.time():
        return _invalid("expired")
    return _verdict(await repository.resolve_read(reads, parsed.token_id), parsed.token_id)[0]


def _verdict(row: Any, token_id: str) -> tuple[QrCheck, str | None]:
    if row is None:
        return _invalid("invalid"), None
    used_at, member_id, account_id, status, name_masked, org_id, org_path, card_no, org_name = row
    if member_id is None or status not in ("active", "suspended"):
        return _invalid("not_a_member"), None
    member = QrMember(member_id=member_id, account_id=account_id, status=status, name_masked=name_masked,
                      card_no_masked=mask_card_no(card_no), org_id=org_id, org_name=org_name or "",
                      org_path=org_path)
    if status == "suspended":
        return QrCheck(valid=False, reason="suspended", member=member), token_id
    if used_at is not None:
        return QrCheck(valid=False, reason="used", member=member), token_id
    return QrCheck(valid=True, reason=None, member=member), token_id


async def consume(*, session: AsyncSession, token: str, codec: QrCodec, caller: str) -> QrCheck:
    verdict, token_id = await check(session=session, token=token, codec=codec)
    if not verdict.valid or token_id is None:
        return verdict
    if await repository.mark_used(session, token_id, datetime.now(UTC), caller):
        return verdict
    # Lost the race (or the member was suspended in between): report what stopped us.
    again, _ = await check(session=session, token=token, codec=codec)
    if again.valid:  # cannot happen after a failed conditional update; never report success twice
        return QrCheck(valid=False, reason="used", member=again.member)
    return again


async def release(*, session: AsyncSession, token: str, codec: QrCodec, window: int) -> bool:
    parsed = codec.parse(token)
    if parsed is None:
        return False
    return await repository.release(session, parsed.token_id, datetime.now(UTC) - timedelta(seconds=window))
