"""Request-scoped access to the jobs service's resources (created in main's lifespan)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.common.crypto import PiiCipher
from services.common.http import OrgDirectory
from services.common.kv import KeyValueStore
from services.jobs.config import JobsSettings


def _settings(request: Request) -> JobsSettings:
    return request.app.state.settings  # type: ignore[no-any-return]


def _pii(request: Request) -> PiiCipher:
    return request.app.state.pii  # type: ignore[no-any-return]


def _kv(request: Request) -> KeyValueStore:
    return request.app.state.kv  # type: ignore[no-any-return]


def _orgs(request: Request) -> OrgDirectory:
    return request.app.state.orgs  # type: ignore[no-any-return]


SettingsDep = Annotated[JobsSettings, Depends(_settings)]
PiiDep = Annotated[PiiCipher, Depends(_pii)]
KvDep = Annotated[KeyValueStore, Depends(_kv)]
OrgsDep = Annotated[OrgDirectory, Depends(_orgs)]
