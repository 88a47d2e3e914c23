from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from services.identity.config import IdentitySettings
from services.identity.main import create_app
from tests.apps import running

TEST_PHONE = "13800138000"
TEST_CODE = "246810"
ADMIN = ("root-admin", "root-admin-password")


@pytest.fixture
def identity_settings(db_url: Callable[[str], str], common_env: dict[str, object]) -> IdentitySettings:
    return IdentitySettings(database_url=db_url("identity"), SMS_TEST_CODES=f"{TEST_PHONE}:{TEST_CODE}",
                            BOOTSTRAP_ADMIN_USERNAME=ADMIN[0], BOOTSTRAP_ADMIN_PASSWORD=ADMIN[1], **common_env)


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
