from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from services.identity.config import IdentitySettings
from services.identity.main import create_app
from tests.apps import running

TEST_PHONE = "13800138000"
TEST_CODE = "246810"
OTHER_PHONE = "13800138001"
ADMIN = ("root-admin", "root-admin-password")


@pytest.fixture
def identity_settings(db_url: Callable[[str], str], common_env: dict[str, object]) -> IdentitySettings:
    codes = f"{TEST_PHONE}:{TEST_CODE},{OTHER_PHONE}:{TEST_CODE}"
    return IdentitySettings(database_url=db_url("identity"), SMS_TEST_CODES=codes,
                            BOOTSTRAP_ADMIN_USERNAME=ADMIN[0], BOOTSTRAP_ADMIN_PASSWORD=ADMIN[1],
                            outbox_interval=0, **common_env)


@pytest.fixture
async def identity(identity_settings: IdentitySettings) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(identity_settings)) as client:
        yield client


async def sms_login(client: httpx.AsyncClient, phone: str = TEST_PHONE, code: str = TEST_CODE) -> dict:
    resp = await client.post("/api/v1/auth/sms/login", json={"phone": phone, "code": code})
    assert resp.status_code == 200, resp.text
    return resp.json()


def bearer(pair: dict) -> dict[str, str]:
    return {"authorization": f"Bearer {pair['access_token']}"}


@pytest.fixture
def wechat_fake():  # type: ignore[no-untyped-def]
    from tests.fakes.wechat import create_app as create_fake

    return create_fake()


@pytest.fixture
async def wechat_identity(identity_settings: IdentitySettings, wechat_fake) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    from tests.fakes.wechat import APPID, SECRET

    settings = identity_settings.model_copy(update={"wechat_appid": APPID, "wechat_secret": SECRET,
                                                    "wechat_api_base": "http://wechat.test", "wechat_timeout": 1.0,
                                                    "wechat_template_ids": {"ticket_reply": "tmpl-reply"}})
    app = create_app(settings, transports={"wechat": httpx.ASGITransport(app=wechat_fake)})
    async with running(app) as client:
        yield client


async def admin_login(client: httpx.AsyncClient) -> dict:
    resp = await client.post("/api/v1/auth/password/login", json={"username": ADMIN[0], "password": ADMIN[1]})
    assert resp.status_code == 200, resp.text
    return resp.json()
