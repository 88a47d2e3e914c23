from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.common.auth import PrincipalDep
from services.common.db import SessionDep
from services.common.pagination import Cursor, Limit, decode_cursor, encode_cursor
from services.membership.transfers import service
from services.membership.transfers.models import Transfer
from services.membership.transfers.schemas import TransferCreate, TransferDecision, TransferList, TransferRead

router = APIRouter(prefix="/api/v1/membership/transfers", tags=["membership"])


def _read(t: Transfer) -> TransferRead:
    return TransferRead(id=t.id, status=t.status, member_id=t.member_id, from_org_id=t.from_org_id,
                        to_org_id=t.to_org_id, reason=t.reason, created_at=t.created_at, decided_at=t.decided_at,
                        decision_reason=t.decision_reason)


@router.post("", status_code=201, response_model=TransferRead)
async def request_transfer(body: TransferCreate, principal: PrincipalDep, session: SessionDep) -> TransferRead:
    """Ask to move to another union (members)."""
    return _read(await service.request_transfer(session=session, principal=principal, to_org_id=body.to_org_id,
                                                reason=body.reason))


@router.get("", response_model=TransferList)
async def listing(principal: PrincipalDep, session: SessionDep, limit: Limit = 20, cursor: Cursor = None,
                  status: Annotated[str | None, Query(pattern="^(pending|completed|rejected|cancelled)$")] = None,
                  ) -> TransferList:
    """A member's own transfers; for staff, those into their subtree. Newest first."""
    key = decode_cursor(cursor)
    rows = await service.listing(session=session, principal=principal, status=status,
                                 before=str(key[0]) if key else None, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return TransferList(items=[_read(t) for t in rows], next_cursor=encode_cursor([rows[-1].id]) if more else None)


@router.get("/{transfer_id}", response_model=TransferRead)
async def get_transfer(transfer_id: str, principal: PrincipalDep, session: SessionDep) -> TransferRead:
    """One transfer (the member, or staff of either union)."""
    return _read(await service.visible(session=session, principal=principal, transfer_id=transfer_id))


@router.post("/{transfer_id}/approve", response_model=TransferRead)
async def approve(transfer_id: str, principal: PrincipalDep, session: SessionDep) -> TransferRead:
    """Complete the transfer (staff whose scope covers the target union)."""
    return _read(await service.approve(session=session, principal=principal, transfer_id=transfer_id))


@router.post("/{transfer_id}/reject", response_model=TransferRead)
async def reject(transfer_id: str, body: TransferDecision, principal: PrincipalDep,
                 session: SessionDep) -> TransferRead:
    """Refuse the transfer with a reason (staff whose scope covers the target union)."""
    return _read(await service.reject(session=session, principal=principal, transfer_id=transfer_id,
                                      reason=body.reason))
