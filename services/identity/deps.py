"""Request-scoped access to the identity service's resources (created in main.lifespan)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.common.crypto import PiiCipher
from services.common.kv import KeyValueStore
from services.identity.config import IdentitySettings
from services.identity.keys import SigningKeys
from services.identity.sms.sender import SmsSender
from services.identity.wechat.client import WechatClient
from services.identity.wechat.errors import WechatNotConfigured


def _settings(request: Request) -> IdentitySettings:
    return request.app.state.settings  # type: ignore[no-any-return]


def _keys(request: Request) -> SigningKeys:
    return request.app.state.keys  # type: ignore[no-any-return]


def _pii(request: Request) -> PiiCipher:
    return request.app.state.pii  # type: ignore[no-any-return]


def _kv(request: Request) -> KeyValueStore:
    return request.app.state.kv  # type: ignore[no-any-return]


def _sender(request: Request) -> SmsSender:
    return request.app.state.sms_sender  # type: ignore[no-any-return]


def _wechat(request: Request) -> WechatClient:
    client = request.app.state.wechat
    if client is None:
        raise WechatNotConfigured
    return client  # type: ignore[no-any-return]


SettingsDep = Annotated[IdentitySettings, Depends(_settings)]
KeysDep = Annotated[SigningKeys, Depends(_keys)]
PiiDep = Annotated[PiiCipher, Depends(_pii)]
KvDep = Annotated[KeyValueStore, Depends(_kv)]
SenderDep = Annotated[SmsSender, Depends(_sender)]
WechatDep = Annotated[WechatClient, Depends(_wechat)]
