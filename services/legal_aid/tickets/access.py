"""Who may see and do what on a ticket. Everyone who is none of owner, assignee or staff whose
org subtree holds the ticket gets 404 — the ticket's existence is not revealed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from services.common.auth import Principal, PrincipalDep
from services.common.http import OrgDirectory, in_subtree
from services.legal_aid.tickets.models import Ticket


@dataclass(frozen=True, slots=True)
class Viewer:
    principal: Principal
    # The org path a staff account acts under ("/root/…/own/"), None without one.
    staff_path: str | None

    @property
    def account_id(self) -> str:
        return self.principal.account_id

    @property
    def is_admin(self) -> bool:
        return self.principal.is_admin

    @property
    def is_staff(self) -> bool:
        return self.is_admin or (self.principal.has("staff") and self.staff_path is not None)

    def is_owner(self, ticket: Ticket) -> bool:
        return ticket.owner_id == self.account_id

    def is_assignee(self, ticket: Ticket) -> bool:
        return ticket.assignee_id is not None and ticket.assignee_id == self.account_id

    def is_staff_for(self, ticket: Ticket) -> bool:
        return self.is_admin or (self.principal.has("staff") and in_subtree(ticket.org_path, self.staff_path))

    def can_see(self, ticket: Ticket) -> bool:
        return self.is_owner(ticket) or self.is_assignee(ticket) or self.is_staff_for(ticket)

    def handles(self, ticket: Ticket) -> bool:
        """Staff in scope or the assigned lawyer: may act, read events and internal notes."""
        return self.is_assignee(ticket) or self.is_staff_for(ticket)

    def sees_internal(self, ticket: Ticket) -> bool:
        # The owner never sees internal notes, even an owner who happens to be staff.
        return self.handles(ticket) and not self.is_owner(ticket)

    def role_on(self, ticket: Ticket) -> str:
        if self.is_owner(ticket):
            return "owner"
        return "assignee" if self.is_assignee(ticket) else "staff"


async def get_viewer(principal: PrincipalDep, request: Request) -> Viewer:
    staff_path = None
    if principal.has("staff") and principal.org_id:
        orgs: OrgDirectory = request.app.state.orgs
        staff_path = await orgs.path(principal.org_id)
    return Viewer(principal=principal, staff_path=staff_path)


ViewerDep = Annotated[Viewer, Depends(get_viewer)]
