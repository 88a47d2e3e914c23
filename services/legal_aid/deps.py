"""Request-scoped access to the legal_aid service's resources (created in main's hook)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from services.common.crypto import PiiCipher
from services.common.db import utcnow
from services.common.http import OrgDirectory, ServiceClient
from services.legal_aid.attachments.storage import AttachmentStore
from services.legal_aid.config import LegalAidSettings


def _settings(request: Request) -> LegalAidSettings:
    return request.app.state.settings  # type: ignore[no-any-return]


def _pii(request: Request) -> PiiCipher:
    return request.app.state.pii  # type: ignore[no-any-return]


def _orgs(request: Request) -> OrgDirectory:
    return request.app.state.orgs  # type: ignore[no-any-return]


def _store(request: Request) -> AttachmentStore:
    return request.app.state.attachments  # type: ignore[no-any-return]


def _membership(request: Request) -> ServiceClient:
    return request.app.state.clients["membership"]  # type: ignore[no-any-return]


def _identity(request: Request) -> ServiceClient:
    return request.app.state.clients["identity"]  # type: ignore[no-any-return]


def _now(request: Request) -> datetime:
    """The clock, replaceable in tests (app.state.clock) to run the calendar on real dates."""
    clock = getattr(request.app.state, "clock", None)
    return clock() if clock is not None else utcnow()


SettingsDep = Annotated[LegalAidSettings, Depends(_settings)]
PiiDep = Annotated[PiiCipher, Depends(_pii)]
OrgsDep = Annotated[OrgDirectory, Depends(_orgs)]
StoreDep = Annotated[AttachmentStore, Depends(_store)]
MembershipDep = Annotated[ServiceClient, Depends(_membership)]
IdentityDep = Annotated[ServiceClient, Depends(_identity)]
NowDep = Annotated[datetime, Depends(_now)]
