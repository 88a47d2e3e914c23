"""Merchant request signing: every way of getting it wrong has its own 401 code."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.benefits.config import BenefitsSettings
from services.benefits.main import create_app
from services.benefits.merchant_api.signing import signed_headers
from tests.apps import running, transport
from tests.benefits.conftest import Pos, World
from tests.databases import DatabaseFactory
from tests.tokens import TokenFactory

VERIFY = "/api/v1/merchant/verify"


async def pos_for(world: World) -> Pos:
    m = await world.merchant()
    return await world.pos(m["id"])


def json_headers(pos: Pos, body: bytes) -> dict[str, str]:
    return {**signed_headers(pos.key_id, pos.secret, "POST", VERIFY, body), "content-type": "application/json"}


def code(resp: httpx.Response) -> str:
    return str(resp.json().get("code"))


class TestSignature:
    async def test_good_signature_passes(self, world: World) -> None:
        pos = await pos_for(world)
        resp = await pos.verify("not-a-token")
        assert resp.status_code == 200
        assert resp.json() == {"valid": False, "reason": "invalid", "member": None}

    async def test_hand_built_signature_matches_the_recipe(self, world: World) -> None:
        """Independent of services.benefits.merchant_api.signing: the documented recipe."""
        pos = await pos_for(world)
        body = json.dumps({"qr_token": "x"}).encode()
        ts, nonce = str(int(time.time())), "0123456789abcdef0123"
        canonical = f"POST\n{VERIFY}\n{ts}\n{nonce}\n{hashlib.sha256(body).hexdigest()}\n"
        sig = base64.b64encode(hmac.new(pos.secret.encode(), canonical.encode(), hashlib.sha256).digest()).decode()
        resp = await world.benefits.post(VERIFY, content=body, headers={
            "X-Merchant-Key": pos.key_id, "X-Timestamp": ts, "X-Nonce": nonce, "X-Signature": sig,
            "content-type": "application/json"})
        assert resp.status_code == 200, resp.text

    async def test_unsigned(self, world: World) -> None:
        resp = await world.benefits.post(VERIFY, json={"qr_token": "x"})
        assert resp.status_code == 401 and code(resp) == "unknown_merchant_key"
        assert resp.headers["content-type"].startswith("application/problem+json")

    async def test_unknown_key(self, world: World) -> None:
        pos = await pos_for(world)
        pos.key_id = "mk_" + "0" * 24
        resp = await pos.verify("x")
        assert resp.status_code == 401 and code(resp) == "unknown_merchant_key"

    async def test_forged_with_wrong_secret(self, world: World) -> None:
        pos = await pos_for(world)
        pos.secret = "sk_guessed"
        resp = await pos.verify("x")
        assert resp.status_code == 401 and code(resp) == "signature_invalid"

    async def test_missing_signature_header(self, world: World) -> None:
        pos = await pos_for(world)
        resp = await pos.request("POST", VERIFY, {"qr_token": "x"}, headers={"X-Signature": ""})
        assert resp.status_code == 401 and code(resp) == "signature_invalid"

    async def test_tampered_body(self, world: World) -> None:
        pos = await pos_for(world)
        good = json.dumps({"qr_token": "a"}).encode()
        headers = signed_headers(pos.key_id, pos.secret, "POST", VERIFY, good)
        resp = await world.benefits.post(VERIFY, content=json.dumps({"qr_token": "b"}).encode(),
                                         headers={**headers, "content-type": "application/json"})
        assert resp.status_code == 401 and code(resp) == "signature_invalid"

    async def test_signed_for_another_path_or_method(self, world: World) -> None:
        pos = await pos_for(world)
        body = json.dumps({"qr_token": "a"}).encode()
        for method, path in (("POST", "/api/v1/merchant/redemptions"), ("PUT", VERIFY)):
            headers = signed_headers(pos.key_id, pos.secret, method, path, body)
            headers["content-type"] = "application/json"
            resp = await world.benefits.post(VERIFY, content=body, headers=headers)
            assert resp.status_code == 401 and code(resp) == "signature_invalid"

    async def test_skewed_clock(self, world: World) -> None:
        pos = await pos_for(world)
        for offset in (-301, 301, -10_000):
            resp = await pos.request("POST", VERIFY, {"qr_token": "x"}, timestamp=int(time.time()) + offset)
            assert resp.status_code == 401 and code(resp) == "timestamp_skew"

    async def test_within_window_is_fine(self, world: World) -> None:
        pos = await pos_for(world)
        resp = await pos.request("POST", VERIFY, {"qr_token": "x"}, timestamp=int(time.time()) - 290)
        assert resp.status_code == 200

    async def test_malformed_timestamp_and_nonce(self, world: World) -> None:
        pos = await pos_for(world)
        for ts in ("", "abc", "1.5", "-5"):
            resp = await pos.request("POST", VERIFY, {"qr_token": "x"}, headers={"X-Timestamp": ts})
            assert resp.status_code == 401 and code(resp) == "timestamp_skew"
        for nonce in ("short", "x" * 65, "has spaces in it, 20+ chars"):
            resp = await pos.request("POST", VERIFY, {"qr_token": "x"}, nonce=nonce)
            assert resp.status_code == 401 and code(resp) == "signature_invalid"

    async def test_replayed_request(self, world: World) -> None:
        pos = await pos_for(world)
        body = json.dumps({"qr_token": "x"}).encode()
        headers = json_headers(pos, body)
        first = await world.benefits.post(VERIFY, content=body, headers=headers)
        again = await world.benefits.post(VERIFY, content=body, headers=headers)
        assert first.status_code == 200
        assert again.status_code == 401 and code(again) == "nonce_reused"

    async def test_forged_requests_do_not_burn_nonces(self, world: World) -> None:
        pos = await pos_for(world)
        nonce = "n" * 20
        forged = Pos(world.benefits, pos.key_id, "sk_wrong")
        assert code(await forged.request("POST", VERIFY, {"qr_token": "x"}, nonce=nonce)) == "signature_invalid"
        assert (await pos.request("POST", VERIFY, {"qr_token": "x"}, nonce=nonce)).status_code == 200

    async def test_same_nonce_different_keys_is_fine(self, world: World) -> None:
        m = await world.merchant()
        a, b = await world.pos(m["id"]), await world.pos(m["id"])
        assert (await a.request("POST", VERIFY, {"qr_token": "x"}, nonce="z" * 16)).status_code == 200
        assert (await b.request("POST", VERIFY, {"qr_token": "x"}, nonce="z" * 16)).status_code == 200

    async def test_signed_get_with_query(self, world: World) -> None:
        pos = await pos_for(world)
        resp = await pos.request("GET", "/api/v1/merchant/redemptions?limit=5")
        assert resp.status_code == 200 and resp.json() == {"items": [], "next_cursor": None}
        # the query is part of what is signed
        headers = signed_headers(pos.key_id, pos.secret, "GET", "/api/v1/merchant/redemptions?limit=5")
        resp = await world.benefits.get("/api/v1/merchant/redemptions?limit=50", headers=headers)
        assert resp.status_code == 401 and code(resp) == "signature_invalid"

    async def test_revoked_key_dies_at_once(self, world: World) -> None:
        m = await world.merchant()
        pos, spare = await world.pos(m["id"]), await world.pos(m["id"])
        assert (await pos.verify("x")).status_code == 200
        resp = await world.benefits.delete(f"/api/v1/benefits/merchants/{m['id']}/credentials/{pos.key_id}",
                                           headers=world.staff["guangzhou"])
        assert resp.status_code == 204
        resp = await pos.verify("x")
        assert resp.status_code == 401 and code(resp) == "unknown_merchant_key"
        assert (await spare.verify("x")).status_code == 200


class TestReplicas:
    """Two processes of the service on one database (and Redis): a replay on the other replica,
    and a revocation made through one replica, are refused by the other."""

    async def _second(self, settings: BenefitsSettings, world: World, tokens: TokenFactory, **extra: Any) -> Any:
        other = BenefitsSettings(**{**settings.model_dump(by_alias=False), **extra})
        return create_app(other, verifier=tokens.verifier(),
                          transports={"membership": transport(world.membership._transport.app)})  # type: ignore[attr-defined]

    async def test_replay_on_other_replica_and_revocation(self, world: World, benefits_settings: BenefitsSettings,
                                                          tokens: TokenFactory) -> None:
        m = await world.merchant()
        pos = await world.pos(m["id"])
        app2 = await self._second(benefits_settings, world, tokens)
        async with running(app2) as replica:
            body = json.dumps({"qr_token": "x"}).encode()
            headers = json_headers(pos, body)
            assert (await world.benefits.post(VERIFY, content=body, headers=headers)).status_code == 200
            again = await replica.post(VERIFY, content=body, headers=headers)
            assert again.status_code == 401 and code(again) == "nonce_reused"
            await world.benefits.delete(f"/api/v1/benefits/merchants/{m['id']}/credentials/{pos.key_id}",
                                        headers=world.staff["guangzhou"])
            assert code(await Pos(replica, pos.key_id, pos.secret).verify("x")) == "unknown_merchant_key"

    async def test_redis_nonce_store_across_replicas(self, world: World, benefits_settings: BenefitsSettings,
                                                     tokens: TokenFactory, redis_test_url: str) -> None:
        m = await world.merchant()
        pos = await world.pos(m["id"])
        app_a = await self._second(benefits_settings, world, tokens, redis_url=redis_test_url)
        app_b = await self._second(benefits_settings, world, tokens, redis_url=redis_test_url)
        async with running(app_a) as a, running(app_b) as b:
            assert type(app_a.state.nonces).__name__ == "RedisNonceStore"
            body = json.dumps({"qr_token": "x"}).encode()
            headers = json_headers(pos, body)
            assert (await a.post(VERIFY, content=body, headers=headers)).status_code == 200
            again = await b.post(VERIFY, content=body, headers=headers)
            assert again.status_code == 401 and code(again) == "nonce_reused"

    async def test_revocation_reaches_a_replica_that_cached_the_key_over_redis(
            self, world: World, benefits_settings: BenefitsSettings, tokens: TokenFactory,
            redis_test_url: str) -> None:
        """Each replica caches the decrypted secret; revocation through A must still stop B's next
        request, also when B's check fails earlier (bad timestamp: still unknown_merchant_key)."""
        m = await world.merchant()
        pos = await world.pos(m["id"])
        app_a = await self._second(benefits_settings, world, tokens, redis_url=redis_test_url)
        app_b = await self._second(benefits_settings, world, tokens, redis_url=redis_test_url)
        async with running(app_a) as a, running(app_b) as b:
            assert (await Pos(a, pos.key_id, pos.secret).verify("x")).status_code == 200
            assert (await Pos(b, pos.key_id, pos.secret).verify("x")).status_code == 200
            assert app_b.state.merchant_keys.get(pos.key_id) is not None
            resp = await a.delete(f"/api/v1/benefits/merchants/{m['id']}/credentials/{pos.key_id}",
                                  headers=world.staff["guangzhou"])
            assert resp.status_code == 204
            assert code(await Pos(b, pos.key_id, pos.secret).verify("x")) == "unknown_merchant_key"
            skewed = await Pos(b, pos.key_id, pos.secret).request("POST", VERIFY, {"qr_token": "x"},
                                                                  timestamp=int(time.time()) - 3600)
            assert code(skewed) == "unknown_merchant_key"

    async def test_redis_losing_the_key_state_falls_back_to_the_database(
            self, world: World, benefits_settings: BenefitsSettings, tokens: TokenFactory,
            redis_test_url: str) -> None:
        import redis.asyncio as aioredis

        m = await world.merchant()
        live, dead = await world.pos(m["id"]), await world.pos(m["id"])
        app_a = await self._second(benefits_settings, world, tokens, redis_url=redis_test_url)
        r = aioredis.from_url(redis_test_url)
        try:
            async with running(app_a) as a:
                for p in (live, dead):
                    assert (await Pos(a, p.key_id, p.secret).verify("x")).status_code == 200
                # Revoked in the database only (as if Redis lost the marker written at revocation).
                await world.benefits.delete(f"/api/v1/benefits/merchants/{m['id']}/credentials/{dead.key_id}",
                                            headers=world.staff["guangzhou"])
                await r.delete(f"su:benefits:mkey:{live.key_id}", f"su:benefits:mkey:{dead.key_id}")
                assert code(await Pos(a, dead.key_id, dead.secret).verify("x")) == "unknown_merchant_key"
                assert (await Pos(a, live.key_id, live.secret).verify("x")).status_code == 200
                assert await r.get(f"su:benefits:mkey:{live.key_id}") == b"live"
        finally:
            await r.aclose()


    async def test_redis_down_answers_503_not_500(self, world: World, benefits_settings: BenefitsSettings,
                                                  tokens: TokenFactory) -> None:
        """Nonces live in Redis when it is configured: without Redis no request can be checked for
        replay, which is the service being unavailable (retry), not a fault of ours."""
        import socket

        with socket.socket() as sock:  # a port nobody listens on
            sock.bind(("127.0.0.1", 0))
            closed = f"redis://127.0.0.1:{sock.getsockname()[1]}/0"
        m = await world.merchant()
        pos = await world.pos(m["id"])
        app = await self._second(benefits_settings, world, tokens, redis_url=closed)
        async with running(app) as replica:
            for _ in range(2):  # the first attempt and the reconnect
                resp = await Pos(replica, pos.key_id, pos.secret).verify("x")
                assert resp.status_code == 503, resp.text
                assert resp.headers["content-type"] == "application/problem+json"
                assert code(resp) == "redis_unavailable" and resp.headers.get("retry-after")


class TestNonceStore:
    """The database store under concurrency: SQLite claims are written in groups by one thread."""

    async def test_concurrent_claims_of_one_nonce_have_one_winner(self, world: World) -> None:
        import asyncio

        from services.benefits.merchant_api.nonces import Claim, DatabaseNonceStore

        m = await world.merchant()
        pos = await world.pos(m["id"])
        store = DatabaseNonceStore(world.app.state.db)
        try:
            same = await asyncio.gather(*(store.claim(pos.key_id, "s" * 20, 900) for _ in range(30)))
            assert same.count(Claim.CLAIMED) == 1 and same.count(Claim.REUSED) == 29
            fresh = await asyncio.gather(*(store.claim(pos.key_id, f"nonce-{i:016d}", 900) for i in range(30)))
            assert fresh == [Claim.CLAIMED] * 30
            assert await store.claim("mk_unknown", "u" * 20, 900) is Claim.REVOKED
        finally:
            await store.aclose()

    async def test_expired_nonce_row_is_taken_over(self, world: World) -> None:
        from services.benefits.merchant_api.nonces import Claim, DatabaseNonceStore

        m = await world.merchant()
        pos = await world.pos(m["id"])
        store = DatabaseNonceStore(world.app.state.db)
        try:
            assert await store.claim(pos.key_id, "e" * 20, -1) is Claim.CLAIMED  # already expired
            assert await store.claim(pos.key_id, "e" * 20, 900) is Claim.CLAIMED
            assert await store.claim(pos.key_id, "e" * 20, 900) is Claim.REUSED
        finally:
            await store.aclose()


class TestSqliteClaimsOnTheLoop:
    """SQLite: a claim is written on the event loop's own connection when the write lock is free,
    else queued for the writer thread; the loop never waits for the lock."""

    @pytest.fixture
    def sqlite_db(self, database_factory: DatabaseFactory, tmp_path: Path) -> tuple[str, str]:
        """A migrated SQLite benefits database with one live key: (file, URL)."""
        url = database_factory.sqlite_url("benefits", tmp_path / "benefits.db")
        path = str(tmp_path / "benefits.db")
        with sqlite3.connect(path) as conn:
            conn.execute("INSERT INTO merchant_keys (key_id, merchant_id, secret_enc, created_by, created_at) "
                         "VALUES ('mk_live', 'm1', 'x', 'test', '2026-01-01 00:00:00.000000')")
        return path, url

    async def test_a_held_write_lock_queues_claims_and_the_loop_runs_on(self, sqlite_db: tuple[str, str]) -> None:
        import asyncio

        from services.benefits.merchant_api.nonces import Claim, DatabaseNonceStore
        from services.common.db import Database

        path, db = sqlite_db[0], Database(sqlite_db[1])
        store = DatabaseNonceStore(db)
        holder = sqlite3.connect(path, isolation_level=None)
        try:
            assert await store.claim("mk_live", "a" * 20, 900) is Claim.CLAIMED  # lock free: on the loop
            holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
            ticks = 0

            async def ticker() -> None:
                nonlocal ticks
                for _ in range(20):
                    await asyncio.sleep(0.01)
                    ticks += 1

            claims = asyncio.gather(*(store.claim("mk_live", n, 900) for n in ("b" * 20, "c" * 20, "b" * 20)))
            tick = asyncio.create_task(ticker())
            await asyncio.sleep(0.25)
            assert ticks >= 10 and not claims.done()  # the loop ran on while the claims waited
            holder.execute("COMMIT")
            assert sorted(c.value for c in await claims) == ["claimed", "claimed", "reused"]
            await tick
            assert await store.claim("mk_live", "a" * 20, 900) is Claim.REUSED
        finally:
            holder.close()
            await store.aclose()
            await db.dispose()

    async def test_expired_nonces_are_swept_every_so_many_claims(self, sqlite_db: tuple[str, str]) -> None:
        import asyncio

        from services.benefits.merchant_api.nonces import UPKEEP_EVERY, DatabaseNonceStore
        from services.common.db import Database

        path, db = sqlite_db[0], Database(sqlite_db[1])
        store = DatabaseNonceStore(db)
        try:
            await store.claim("mk_live", "old-nonce-000000", -60)  # already expired
            for i in range(UPKEEP_EVERY):
                await store.claim("mk_live", f"nonce-{i:016d}", 900)
            for _ in range(100):
                with sqlite3.connect(path) as conn:
                    old = conn.execute("SELECT count(*) FROM used_nonces WHERE nonce = 'old-nonce-000000'").fetchone()
                if old == (0,):
                    break
                await asyncio.sleep(0.02)
            assert old == (0,)
        finally:
            await store.aclose()
            await db.dispose()
