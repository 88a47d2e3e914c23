from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from services.common.auth import PrincipalDep
from services.common.db import SessionDep
from services.common.internal_auth import require_service
from services.membership.deps import KvDep, QrDep, ReadsDep, SettingsDep
from services.membership.members import repository as members
from services.membership.members.errors import NotAMember
from services.membership.qr import service
from services.membership.qr.schemas import QrCheck, QrIssued, QrReleased, QrTokenIn

router = APIRouter(prefix="/api/v1/membership", tags=["membership"])
internal = APIRouter(prefix="/internal/qr", include_in_schema=False)

AnyService = Annotated[str, require_service()]


@router.post("/me/qr", status_code=201, response_model=QrIssued)
async def issue_qr(principal: PrincipalDep, session: SessionDep, codec: QrDep, settings: SettingsDep,
                   kv: KvDep) -> QrIssued:
    """A single-use code for the member card's QR, valid ≤ 60 s; it carries no personal data."""
    member = await members.by_account(session, principal.account_id)
    if member is None or member.status == "closed":
        raise NotAMember
    return await service.issue(session=session, member=member, codec=codec, settings=settings, kv=kv)


@internal.post("/check", response_model=QrCheck)
async def check(body: QrTokenIn, _: AnyService, codec: QrDep, reads: ReadsDep) -> QrCheck:
    """Is this code good right now? Never consumes it. One indexed read (every merchant verify
    comes here), without a session."""
    return await service.check_only(reads=reads, token=body.token, codec=codec)


@internal.post("/consume", response_model=QrCheck)
async def consume(body: QrTokenIn, caller: AnyService, session: SessionDep, codec: QrDep) -> QrCheck:
    """Check and mark used, atomically: of concurrent consumers exactly one gets valid=true."""
    return await service.consume(session=session, token=body.token, codec=codec, caller=caller)


@internal.post("/release", response_model=QrReleased,
               dependencies=[require_service("benefits")])
async def release(body: QrTokenIn, session: SessionDep, codec: QrDep, settings: SettingsDep) -> QrReleased:
    """Undo a consumption of the last 60 s (the caller's own transaction failed after consuming)."""
    released = await service.release(session=session, token=body.token, codec=codec,
                                     window=settings.qr_release_window)
    return QrReleased(released=released)
