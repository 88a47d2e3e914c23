"""Staff scope: a staff account acts inside its org's subtree, an admin everywhere.

A scope is a path prefix: "" for an admin (matches everything), the staff org's materialised
path otherwise. In SQL it is a range on an indexed path column, never a walk of the tree.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from services.common.auth import Principal
from services.common.errors import Forbidden
from services.membership.orgs import repository as orgs

ADMIN_SCOPE = ""


def is_staff(principal: Principal) -> bool:
    return principal.has("admin", "staff")


async def staff_scope(session: AsyncSession, principal: Principal) -> str:
    """The caller's scope prefix; 403 for anyone who is not admin or staff of an existing org."""
    if principal.is_admin:
        return ADMIN_SCOPE
    if not principal.has("staff") or not principal.org_id:
        raise Forbidden("没有权限执行此操作")
    org = await orgs.get(session, principal.org_id)
    if org is None:
        raise Forbidden("工作人员所属组织不存在")
    return org.path


def in_scope(path: str | None, scope: str) -> bool:
    return path is not None and path.startswith(scope)


def subtree(column: Any, scope: str) -> ColumnElement[bool]:
    """column inside the subtree: every path starting with `scope` ("/a/b/") sorts in
    [scope, scope-with-last-"/"-replaced-by-"0") byte-wise, and "0" follows "/" in ASCII."""
    if scope == ADMIN_SCOPE:
        return true()
    return and_(column >= scope, column < scope[:-1] + "0")
