from __future__ import annotations

import asyncio
import time

import httpx
import jwt

from tests.identity.conftest import bearer, sms_login


class TestRefreshRotation:
    async def test_refresh_rotates_and_old_token_dies(self, identity: httpx.AsyncClient) -> None:
        first = await sms_login(identity)
        resp = await identity.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert resp.status_code == 200
        second = resp.json()
        assert second["refresh_token"] != first["refresh_token"]
        assert second["account_id"] == first["account_id"]
        assert (await identity.get("/api/v1/me", headers=bearer(second))).status_code == 200

    async def test_reuse_revokes_the_whole_family(self, identity: httpx.AsyncClient) -> None:
        first = await sms_login(identity)
        second = (await identity.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})).json()
        reused = await identity.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert reused.status_code == 401
        assert reused.json()["code"] == "refresh_token_reused"
        # The legitimate newest token of that family is dead too.
        resp = await identity.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
        assert resp.status_code == 401

    async def test_other_logins_survive_a_family_revocation(self, identity: httpx.AsyncClient) -> None:
        one = await sms_login(identity)
        other = await sms_login(identity)
        await identity.post("/api/v1/auth/refresh", json={"refresh_token": one["refresh_token"]})
        await identity.post("/api/v1/auth/refresh", json={"refresh_token": one["refresh_token"]})
        resp = await identity.post("/api/v1/auth/refresh", json={"refresh_token": other["refresh_token"]})
        assert resp.status_code == 200

    async def test_concurrent_refresh_only_one_wins(self, identity: httpx.AsyncClient) -> None:
        pair = await sms_login(identity)
        results = await asyncio.gather(*[
            identity.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}) for _ in range(5)])
        assert sum(r.status_code == 200 for r in results) <= 1
        assert all(r.status_code in (200, 401) for r in results)

    async def test_garbage_refresh_token(self, identity: httpx.AsyncClient) -> None:
        for token in ("nope", "a.b", "." * 50):
            resp = await identity.post("/api/v1/auth/refresh", json={"refresh_token": token})
            assert resp.status_code == 401
            assert resp.json()["code"] == "unauthenticated"

    async def test_logout_kills_refresh(self, identity: httpx.AsyncClient) -> None:
        pair = await sms_login(identity)
        out = await identity.post("/api/v1/auth/logout", json={"refresh_token": pair["refresh_token"]})
        assert out.status_code == 204
        resp = await identity.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
        assert resp.status_code == 401


class TestAccessTokens:
    async def test_jwks_verifies_the_token(self, identity: httpx.AsyncClient) -> None:
        pair = await sms_login(identity)
        jwks = (await identity.get("/.well-known/jwks.json")).json()
        header = jwt.get_unverified_header(pair["access_token"])
        key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
        claims = jwt.decode(pair["access_token"], jwt.PyJWK(key).key, algorithms=["EdDSA"], audience="smartunion")
        assert claims["sub"] == pair["account_id"]
        assert claims["exp"] - claims["iat"] == 900
        assert "13800138000" not in pair["access_token"]

    async def test_forged_tokens_are_401(self, identity: httpx.AsyncClient) -> None:
        pair = await sms_login(identity)
        claims = jwt.decode(pair["access_token"], options={"verify_signature": False})
        none_alg = jwt.encode(claims, None, algorithm="none")
        hs = jwt.encode(claims, "guess", algorithm="HS256", headers={"kid": jwt.get_unverified_header(
            pair["access_token"])["kid"]})
        head, body, sig = pair["access_token"].split(".")
        tampered = f"{head}.{body}.{sig[:-4]}AAAA"
        expired_claims = {**claims, "exp": int(time.time()) - 10}
        for token in (none_alg, hs, tampered, "garbage", f"{head}.{body}."):
            resp = await identity.get("/api/v1/me", headers={"authorization": f"Bearer {token}"})
            assert resp.status_code == 401, token
            assert resp.json()["code"] == "unauthenticated"
            assert "Traceback" not in resp.text
        assert expired_claims["exp"] < time.time()

    async def test_missing_token(self, identity: httpx.AsyncClient) -> None:
        resp = await identity.get("/api/v1/me")
        assert resp.status_code == 401
        assert resp.headers["content-type"].startswith("application/problem+json")
