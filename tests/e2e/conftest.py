from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fakes.wechat import APPID, SECRET
from tests.stack import REPO, Stack, free_port, running_stack, uvicorn_cmd

E2E_PHONE, E2E_CODE = "13700137000", "135790"
E2E_PHONE_2 = "13700137001"
E2E_ADMIN = ("e2e-admin", "e2e-admin-password")


@pytest.fixture(scope="module")
def wechat_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = (tmp_path_factory.mktemp("wechat") / "wechat.log").open("wb")
    proc = subprocess.Popen(uvicorn_cmd("tests.fakes.wechat:create_app", port), cwd=REPO, stdout=log,
                            stderr=subprocess.STDOUT, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
                            executable=sys.executable)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/_fake/state", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, wechat_server: str) -> Iterator[Stack]:
    data_dir: Path = tmp_path_factory.mktemp("e2e")
    env = {"SMS_TEST_CODES": f"{E2E_PHONE}:{E2E_CODE},{E2E_PHONE_2}:{E2E_CODE}",
           "BOOTSTRAP_ADMIN_USERNAME": E2E_ADMIN[0], "BOOTSTRAP_ADMIN_PASSWORD": E2E_ADMIN[1],
           "WECHAT_APPID": APPID, "WECHAT_SECRET": SECRET, "WECHAT_API_BASE": wechat_server,
           "IDENTITY_WECHAT_TIMEOUT": "2", "RATE_LIMIT_SCALE": "100"}
    with running_stack(data_dir, env) as s:
        yield s


@pytest.fixture
def gw(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.gateway, timeout=15) as client:
        yield client
