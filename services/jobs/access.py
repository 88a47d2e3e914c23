"""Who may see and manage a job: the poster, staff whose org subtree contains the job's org,
and admins. Everyone else sees a job only while it is open (published, unexpired)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.common.auth import Principal
from services.common.http import OrgDirectory, in_subtree
from services.jobs.postings.models import PUBLISHED, Job


@dataclass(frozen=True, slots=True)
class Viewer:
    principal: Principal
    staff_path: str | None  # the staff member's own org path (their scope), if staff

    @property
    def account_id(self) -> str:
        return self.principal.account_id

    @property
    def is_admin(self) -> bool:
        return self.principal.is_admin

    def in_scope(self, job: Job) -> bool:
        """Staff of the job's org subtree, or an admin."""
        return self.is_admin or in_subtree(job.org_path, self.staff_path)

    def manages(self, job: Job) -> bool:
        return job.poster_id == self.account_id or self.in_scope(job)


async def viewer(principal: Principal, orgs: OrgDirectory) -> Viewer:
    path = await orgs.path(principal.org_id) if principal.has("staff") and principal.org_id else None
    return Viewer(principal, path)


def is_open(job: Job, now: datetime) -> bool:
    return job.status == PUBLISHED and job.expires_at > now


def public_status(job: Job, now: datetime) -> str:
    return "expired" if job.status == PUBLISHED and job.expires_at <= now else job.status
