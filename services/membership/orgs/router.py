from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.common.auth import PrincipalDep
from services.common.db import SessionDep
from services.common.internal_auth import require_service
from services.common.pagination import Cursor, Limit, decode_cursor, encode_cursor
from services.membership.orgs import repository, service
from services.membership.orgs.errors import OrgNotFound
from services.membership.orgs.models import Org
from services.membership.orgs.schemas import InternalOrgRead, OrgCreate, OrgList, OrgRead

router = APIRouter(prefix="/api/v1/orgs", tags=["orgs"])
internal = APIRouter(prefix="/internal/orgs", include_in_schema=False, dependencies=[require_service()])


def _read(org: Org) -> OrgRead:
    return OrgRead(id=org.id, name=org.name, parent_id=org.parent_id, path=org.path, depth=org.depth)


@router.post("", status_code=201, response_model=OrgRead)
async def create_org(body: OrgCreate, principal: PrincipalDep, session: SessionDep) -> OrgRead:
    """Create an org: admin anywhere; staff only below their own org."""
    return _read(await service.create_org(session=session, data=body, principal=principal))


@router.get("", response_model=OrgList)
async def list_orgs(_: PrincipalDep, session: SessionDep, limit: Limit = 20, cursor: Cursor = None,
                    parent_id: Annotated[str | None, Query(max_length=64)] = None) -> OrgList:
    """Children of `parent_id`, or the roots when it is omitted."""
    key = decode_cursor(cursor)
    after = str(key[0]) if key else None
    rows = await repository.children(session, parent_id, after=after, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return OrgList(items=[_read(o) for o in rows], next_cursor=encode_cursor([rows[-1].id]) if more else None)


@router.get("/{org_id}", response_model=OrgRead)
async def get_org(org_id: str, _: PrincipalDep, session: SessionDep) -> OrgRead:
    """One org."""
    org = await repository.get(session, org_id)
    if org is None:
        raise OrgNotFound
    return _read(org)


@internal.get("/{org_id}", response_model=InternalOrgRead)
async def internal_org(org_id: str, session: SessionDep) -> InternalOrgRead:
    org = await repository.get(session, org_id)
    if org is None:
        raise OrgNotFound
    return InternalOrgRead(id=org.id, name=org.name, parent_id=org.parent_id, path=org.path, depth=org.depth)
