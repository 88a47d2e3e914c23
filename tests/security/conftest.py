"""One real stack per backend per test session (per xdist worker), populated with one object of
every kind and one account per role; every module of the suite shares it. Tests that change
shared state make their own objects (World.new_member, World.new_key, …).

`world` is parametrized by backend: `sqlite` (files in the stack's data dir) and `postgres`
(PostgreSQL + Redis, as production runs). The parameter is session-scoped, so pytest runs every
SQLite test before every PostgreSQL one in a single process. Under `-n 2 --dist loadfile` a
worker runs each file's SQLite tests and then its PostgreSQL tests, file after file; both stacks
are therefore kept alive (`_worlds`) until the worker's session ends instead of being rebuilt at
each switch — one stack per backend per worker. A test that only makes sense on one backend says
so with `on_backends(...)`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import httpx
import pytest

from tests.backends import postgres_url, redis_url
from tests.security.world import World, backend_for, build_world, security_stack

BACKENDS = ("sqlite", "postgres")


def on_backends(*names: str) -> pytest.MarkDecorator:
    """Run a test against the worlds of these backends only."""
    return pytest.mark.parametrize("world", names, indirect=True)


class _Worlds:
    def __init__(self, tmp: pytest.TempPathFactory, exits: contextlib.ExitStack) -> None:
        self._tmp = tmp
        self._exits = exits
        self._built: dict[str, World | BaseException] = {}

    def get(self, backend: str) -> World:
        if backend == "postgres" and (postgres_url() is None or redis_url() is None):
            # Outside CI only: tests/conftest.py refuses to start a CI run without both.
            pytest.skip("the security suite on PostgreSQL needs a reachable PostgreSQL and Redis "
                        "(TEST_DATABASE_URL / TEST_REDIS_URL)")
        if backend not in self._built:
            try:
                self._built[backend] = self._build(backend)
            except Exception as exc:  # built once: every later test of this backend sees the same error
                self._built[backend] = exc
        built = self._built[backend]
        if isinstance(built, BaseException):
            raise built
        return built

    def _build(self, name: str) -> World:
        data_dir = self._tmp.mktemp(f"security-{name}")
        backend = self._exits.enter_context(backend_for(name))
        stack, wechat = self._exits.enter_context(security_stack(data_dir, backend))
        gw = self._exits.enter_context(httpx.Client(base_url=stack.gateway, timeout=20))
        return build_world(stack, wechat, gw, backend)


@pytest.fixture(scope="session")
def _worlds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Worlds]:
    with contextlib.ExitStack() as exits:
        yield _Worlds(tmp_path_factory, exits)


@pytest.fixture(scope="session", params=BACKENDS)
def world(request: pytest.FixtureRequest, _worlds: _Worlds) -> World:
    return _worlds.get(str(request.param))
