"""Request-scoped access to the benefits service's resources (created in main.lifespan).
Async on purpose: FastAPI runs plain `def` dependencies in a worker thread, a hop per request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.benefits.config import BenefitsSettings
from services.benefits.membership import MembershipClient
from services.benefits.merchant_api.nonces import NonceStore
from services.common.auth import Principal, PrincipalDep
from services.common.crypto import PiiCipher
from services.common.db import Database
from services.common.errors import Forbidden
from services.common.http import OrgDirectory


async def _settings(request: Request) -> BenefitsSettings:
    return request.app.state.settings  # type: ignore[no-any-return]


async def _cipher(request: Request) -> PiiCipher:
    return request.app.state.cipher  # type: ignore[no-any-return]


async def _orgs(request: Request) -> OrgDirectory:
    return request.app.state.orgs  # type: ignore[no-any-return]


async def _membership(request: Request) -> MembershipClient:
    return request.app.state.membership  # type: ignore[no-any-return]


async def _db(request: Request) -> Database:
    return request.app.state.db  # type: ignore[no-any-return]


async def _nonces(request: Request) -> NonceStore:
    return request.app.state.nonces  # type: ignore[no-any-return]


SettingsDep = Annotated[BenefitsSettings, Depends(_settings)]
CipherDep = Annotated[PiiCipher, Depends(_cipher)]
OrgsDep = Annotated[OrgDirectory, Depends(_orgs)]
MembershipDep = Annotated[MembershipClient, Depends(_membership)]
DatabaseDep = Annotated[Database, Depends(_db)]
NoncesDep = Annotated[NonceStore, Depends(_nonces)]


async def _manager(principal: PrincipalDep) -> Principal:
    if not principal.has("staff", "admin"):
        raise Forbidden("只有工会工作人员可以管理商户")
    return principal


ManagerDep = Annotated[Principal, Depends(_manager)]


class Scope:
    """What a staff member may manage: their org's subtree (by path prefix); admin everything."""

    def __init__(self, principal: Principal, root_path: str | None) -> None:
        self.principal = principal
        self.root_path = root_path

    @property
    def everywhere(self) -> bool:
        return self.principal.is_admin

    def covers(self, path: str | None) -> bool:
        if self.everywhere:
            return True
        return bool(path and self.root_path and path.startswith(self.root_path))


async def _scope(principal: ManagerDep, orgs: OrgsDep) -> Scope:
    if principal.is_admin:
        return Scope(principal, None)
    root = await orgs.path(principal.org_id)
    if root is None:
        raise Forbidden("账号未归属任何组织")
    return Scope(principal, root)


ScopeDep = Annotated[Scope, Depends(_scope)]
