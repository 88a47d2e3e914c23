"""The lean Redis client of the nonce claim (merchant_api/resp.py), against the real Redis and a
silent server: replies matched to their requests under pipelining, the script reloaded after a
flush, a lost connection replaced, a server that stops answering times out without mixing up
replies, the database number and credentials of the URL honoured."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from services.benefits.merchant_api.nonces import _CLAIM_LUA, Claim, RedisNonceStore
from services.benefits.merchant_api.resp import LeanRedis, RespError, encode, parse


def test_parse_and_encode() -> None:
    assert encode("SET", b"k", 5) == b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n5\r\n"
    assert parse(b":-1\r\n") == (-1, 5)
    assert parse(b"+OK\r\n") == ("OK", 5)
    assert parse(b"$3\r\nabc\r\n") == (b"abc", 9)
    assert parse(b"$-1\r\n") == (None, 5)
    assert parse(b"*2\r\n:1\r\n$1\r\nx\r\n") == ([1, b"x"], 15)
    err, _ = parse(b"-NOSCRIPT No matching script\r\n")
    assert isinstance(err, RespError) and str(err).startswith("NOSCRIPT")
    for bad in (b"?x\r\n", b"$5\r\nabc\r\nzz", b":x\r\n"):
        with pytest.raises(ValueError):
            parse(bad)


@pytest.fixture
async def lean(redis_test_url: str) -> LeanRedis:
    client = LeanRedis.from_url(redis_test_url)
    assert client is not None
    return client


async def test_pipelined_replies_go_to_their_requests(lean: LeanRedis, redis_test_url: str) -> None:
    prefix = f"test:resp:{secrets.token_hex(4)}"
    r = aioredis.from_url(redis_test_url)
    try:
        await r.mset({f"{prefix}:{i}": str(i) for i in range(200)})
        values = await asyncio.gather(*(lean.execute("GET", f"{prefix}:{i}") for i in range(200)))
        assert values == [str(i).encode() for i in range(200)]
        with pytest.raises(RespError):
            await lean.execute("INCR", f"{prefix}:none", "extra-argument")
        assert await lean.execute("GET", f"{prefix}:7") == b"7"  # still in step after an error
    finally:
        await r.delete(*[f"{prefix}:{i}" for i in range(200)])
        await r.aclose()
        await lean.aclose()


async def test_script_reloaded_and_connection_replaced(lean: LeanRedis, redis_test_url: str) -> None:
    r = aioredis.from_url(redis_test_url)
    state, nonce = f"test:resp:{secrets.token_hex(4)}:state", f"test:resp:{secrets.token_hex(4)}:nonce"
    try:
        await r.set(state, "live", ex=60)
        # A script text the server has never seen (as after a restart or SCRIPT FLUSH, without
        # flushing the Redis other tests share): NOSCRIPT → EVAL.
        script = f"{_CLAIM_LUA}-- {secrets.token_hex(8)}\n"
        sha = r.register_script(script).sha
        assert await lean.evalsha(sha, script, [state, nonce], [60]) == 1
        assert await lean.evalsha(sha, script, [state, nonce], [60]) == 0
        own_id = await lean.execute("CLIENT", "ID")
        assert await r.client_kill_filter(_id=own_id) == 1  # only the lean client's connection
        assert await lean.evalsha(sha, script, [state, nonce + "2"], [60]) == 1
        assert await lean.execute("CLIENT", "ID") != own_id
    finally:
        await r.delete(state, nonce, nonce + "2")
        await r.aclose()
        await lean.aclose()


async def test_a_silent_server_times_out_and_the_next_call_starts_afresh() -> None:
    accepted: list[asyncio.StreamWriter] = []

    async def silent(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = LeanRedis("127.0.0.1", port, timeout=0.2)
    try:
        results = await asyncio.gather(*(client.execute("PING") for _ in range(3)), return_exceptions=True)
        assert all(isinstance(x, TimeoutError) for x in results), results
        with pytest.raises(TimeoutError):
            await client.execute("PING")
        assert len(accepted) == 2  # the timed-out connection was dropped, not reused
    finally:
        await client.aclose()
        for w in accepted:
            w.close()
        server.close()
        await server.wait_closed()


async def test_database_number_and_password_from_the_url(redis_test_url: str) -> None:
    base = redis_test_url.rsplit("/", 1)[0]
    lean = LeanRedis.from_url(f"{base}/3")
    assert lean is not None and lean.db == 3
    key = f"test:resp:{secrets.token_hex(4)}"
    r3 = aioredis.from_url(f"{base}/3")
    try:
        await lean.execute("SET", key, "in-3", "EX", 60)
        assert await r3.get(key) == b"in-3"
        with_password = LeanRedis.from_url("redis://:s%40cret@127.0.0.1:6390/2")
        assert with_password is not None and with_password._password == "s@cret" and with_password.db == 2
        assert LeanRedis.from_url("rediss://127.0.0.1:6379/0") is None
        assert LeanRedis.from_url("unix:///tmp/redis.sock") is None
        wrong = LeanRedis.from_url(f"redis://:not-the-password@{base.split('//', 1)[1]}/0")
        assert wrong is not None
        with pytest.raises(RespError):  # a server without a password refuses AUTH
            await wrong.execute("PING")
        await wrong.aclose()
    finally:
        await r3.delete(key)
        await r3.aclose()
        await lean.aclose()


async def test_store_uses_it_for_plain_tcp(redis_test_url: str, tmp_path: Path) -> None:
    from services.common.db import Database

    r = aioredis.from_url(redis_test_url)
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}")  # every key here has its marker
    store = RedisNonceStore(r, db, prefix=f"test:{secrets.token_hex(4)}")
    try:
        assert store._lean is not None
        await r.set(store._state_key("mk_x"), b"live", ex=60)
        assert await store.claim("mk_x", "n" * 20, 60) is Claim.CLAIMED
        assert await store.claim("mk_x", "n" * 20, 60) is Claim.REUSED
        await store.mark_revoked("mk_x")
        assert await store.claim("mk_x", "m" * 20, 60) is Claim.REVOKED
    finally:
        await store.aclose()
        await r.aclose()
        await db.dispose()
