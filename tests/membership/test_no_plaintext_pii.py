"""After running every flow that touches ID numbers and real names, a byte scan of the SQLite
files (main, WAL, shared memory) and of everything logged finds none of them in plaintext."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from services.common.logging import JsonFormatter
from services.membership.config import MembershipSettings
from services.membership.main import create_app
from tests.apps import running
from tests.membership.conftest import build_world, id_number
from tests.membership.test_account_closed import _close
from tests.membership.test_internal_api import _account
from tests.tokens import TokenFactory

NAMES = ["欧阳娜娜", "买买提·艾力", "王小明", "赵丽颖"]


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(JsonFormatter("membership"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def settings(backend: str, db_url: Callable[[str], str], common_env: dict[str, object]) -> MembershipSettings:
    if backend != "sqlite":
        pytest.skip("scans the SQLite files")
    env = {**common_env, "LOG_LEVEL": "DEBUG"}
    return MembershipSettings(database_url=db_url("membership"), **env)  # type: ignore[arg-type]


async def test_no_plaintext_id_numbers_or_names(settings: MembershipSettings, tokens: TokenFactory,
                                                capfd: pytest.CaptureFixture[str]) -> None:
    numbers = [id_number(600 + i, born=f"19{70 + i}0615") for i in range(len(NAMES))]
    numbers.append("11010519491231002X")  # submitted with a lowercase x below
    capture = _Capture()
    async with running(create_app(settings, verifier=tokens.verifier())) as client:
        logging.getLogger().addHandler(capture)
        logging.getLogger().setLevel(logging.DEBUG)
        try:
            world = await build_world(client, tokens)
            users = []
            for name, number in zip(NAMES, numbers, strict=False):
                headers, app = await world.member(real_name=name, id_number=number)
                users.append((headers, app))
            # Invalid, duplicate and rejected submissions go through the error paths too.
            await world.apply(world.user(), id_number=numbers[0][:17] + "0")
            await world.apply(world.user(), id_number=numbers[0])
            pending = (await world.apply(world.user(), real_name="赵丽颖", id_number="11010519491231002x")).json()
            await client.post(f"/api/v1/membership/applications/{pending['id']}/reject", json={"reason": "x"},
                              headers=world.staff["guangzhou"])
            for headers, app in users:
                token = await world.qr(headers)
                await world.internal("/internal/qr/consume", {"token": token})
                await client.post(f"/api/v1/membership/members/{app['member_id']}/suspend", json={"reason": "x"},
                                  headers=world.staff["guangzhou"])
            await _close(world, _account(users[0][0]))
        finally:
            logging.getLogger().removeHandler(capture)
    out, err = capfd.readouterr()
    assert capture.lines, "nothing was logged: the scan would prove nothing"
    logs = "\n".join(capture.lines) + out + err

    db_file = Path(settings.database_url.split("///", 1)[1])  # type: ignore[union-attr]
    blobs = {p.name: p.read_bytes() for p in db_file.parent.glob(db_file.name + "*")}
    assert db_file.name in blobs and len(blobs[db_file.name]) > 0
    # Positive control: plaintext that is stored (the employer, not personal data) is found.
    assert any("广州地铁集团有限公司".encode() in blob for blob in blobs.values())
    for secret in numbers + NAMES:
        assert secret not in logs, secret
        for variant in {secret, secret.lower()}:
            for name, blob in blobs.items():
                assert variant.encode() not in blob, (name, secret)
                assert variant.encode("utf-16-le") not in blob, (name, secret)
