"""One real stack per test session (per xdist worker), populated with one object of every kind
and one account per role; every module of the suite shares it. Tests that change shared state
make their own objects (World.new_member, World.new_key, …)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.security.world import World, build_world, security_stack


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    data_dir = tmp_path_factory.mktemp("security-stack")
    with security_stack(data_dir) as (stack, wechat), httpx.Client(base_url=stack.gateway, timeout=20) as gw:
        yield build_world(stack, wechat, gw)
