"""The audit trail: time, actor, event, target, outcome and request id — ids only, no personal
data. Successful actions are written in the request's own transaction (they exist exactly when the
change does); refused staff actions are committed on their own, as the request's work rolls back."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.auth import Principal
from services.common.logging import request_id_var
from services.membership.audit import repository
from services.membership.audit.models import AuditEntry

logger = logging.getLogger("smartunion.membership.audit")


def _entry(actor: Principal | str | None, action: str, target_type: str, target_id: str, outcome: str,
           detail: dict[str, Any] | None) -> AuditEntry:
    actor_id: str | None = actor.account_id if isinstance(actor, Principal) else actor
    roles: str | None
    if isinstance(actor, Principal):
        roles = ",".join(sorted(actor.roles)) or "user"
    else:
        roles = "service" if actor else None
    return AuditEntry(actor_id=actor_id, actor_roles=roles, action=action, target_type=target_type,
                      target_id=target_id, outcome=outcome, request_id=request_id_var.get(), detail=detail)


async def record(session: AsyncSession, actor: Principal | str | None, action: str, target_type: str,
                 target_id: str, *, detail: dict[str, Any] | None = None) -> None:
    await repository.add(session, _entry(actor, action, target_type, target_id, "success", detail))


async def record_denied(session: AsyncSession, actor: Principal, action: str, target_type: str,
                        target_id: str) -> None:
    """Call only before the request has changed anything, right before raising the refusal: the
    request's transaction is rolled back (nothing to lose) and the entry committed on its own."""
    try:
        await session.rollback()
        await repository.add(session, _entry(actor, action, target_type, target_id, "denied", None))
        await session.commit()
    except Exception:  # the refusal itself must still be answered
        await session.rollback()
        logger.warning("audit write failed", extra={"fields": {"action": action, "target_id": target_id}})
