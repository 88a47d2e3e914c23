"""Request-scoped access to the membership service's resources (created in main.lifespan).
Async on purpose: FastAPI runs plain `def` dependencies in a worker thread, a hop per request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.common.crypto import PiiCipher
from services.common.fastread import FastReads
from services.common.kv import KeyValueStore
from services.membership.config import MembershipSettings
from services.membership.qr.codec import QrCodec


async def _settings(request: Request) -> MembershipSettings:
    return request.app.state.settings  # type: ignore[no-any-return]


async def _pii(request: Request) -> PiiCipher:
    return request.app.state.pii  # type: ignore[no-any-return]


async def _kv(request: Request) -> KeyValueStore:
    return request.app.state.kv  # type: ignore[no-any-return]


async def _qr(request: Request) -> QrCodec:
    return request.app.state.qr  # type: ignore[no-any-return]


async def _reads(request: Request) -> FastReads:
    return request.app.state.reads  # type: ignore[no-any-return]


SettingsDep = Annotated[MembershipSettings, Depends(_settings)]
PiiDep = Annotated[PiiCipher, Depends(_pii)]
KvDep = Annotated[KeyValueStore, Depends(_kv)]
QrDep = Annotated[QrCodec, Depends(_qr)]
ReadsDep = Annotated[FastReads, Depends(_reads)]
