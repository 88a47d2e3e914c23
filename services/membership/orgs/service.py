"""The union tree. An org's path is fixed at creation ("/<root>/…/<id>/"), so subtree tests are
prefix tests and callers may cache paths forever."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.auth import Principal
from services.common.errors import Forbidden
from services.common.ids import new_id
from services.membership.audit import service as audit
from services.membership.database import PATH_LENGTH
from services.membership.orgs import repository
from services.membership.orgs.errors import InvalidOrg, OrgNameTaken
from services.membership.orgs.models import Org
from services.membership.orgs.schemas import OrgCreate
from services.membership.scope import in_scope, staff_scope


async def create_org(*, session: AsyncSession, data: OrgCreate, principal: Principal) -> Org:
    scope = await staff_scope(session, principal)
    name = data.name.strip()
    if not name:
        raise InvalidOrg("组织名称不能为空")
    parent = None
    if data.parent_id is not None:
        parent = await repository.get(session, data.parent_id)
        if parent is None:
            raise InvalidOrg("上级组织不存在")
    # Staff create below their own org (their own org included as parent), never a root.
    if not principal.is_admin and (parent is None or not in_scope(parent.path, scope)):
        raise Forbidden("只能在本组织之下创建组织")
    if await repository.by_parent_and_name(session, data.parent_id, name) is not None:
        raise OrgNameTaken
    org_id = new_id()
    path = f"{parent.path if parent else '/'}{org_id}/"
    if len(path) > PATH_LENGTH:
        raise InvalidOrg("组织层级过深")
    org = Org(id=org_id, name=name, parent_id=data.parent_id, path=path,
              depth=(parent.depth + 1) if parent else 0, created_by=principal.account_id)
    try:
        async with session.begin_nested():
            await repository.add(session, org)
    except IntegrityError:
        raise OrgNameTaken from None
    await audit.record(session, principal, "org.create", "org", org.id, detail={"parent_id": data.parent_id})
    return org
