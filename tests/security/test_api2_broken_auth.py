"""API2:2023 Broken authentication — forged tokens (alg none, wrong key, algorithm confusion,
tampered claims, expired), refresh token reuse, logout, brute force of SMS codes and passwords,
and services that never trust the caller without a token even when reached directly."""

from __future__ import annotations

import base64
import json
import time

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.common.auth import AUDIENCE, ISSUER
from services.common.internal_auth import ServiceSigner
from tests.security.world import CODE, World, bearer


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _claims(world: World, role: str = "member", **overrides: object) -> dict:
    token = world.headers[role]["authorization"].split()[1]
    return {**jwt.decode(token, options={"verify_signature": False}), **overrides}


def _kid(world: World) -> str:
    token = world.headers["member"]["authorization"].split()[1]
    return str(jwt.get_unverified_header(token)["kid"])


def _real_key(world: World) -> Ed25519PrivateKey:
    pem = (world.stack.data_dir / "keys" / "identity-signing.pem").read_bytes()
    key = serialization.load_pem_private_key(pem, None)
    assert isinstance(key, Ed25519PrivateKey)
    return key


def _refused_everywhere(world: World, token: str) -> None:
    """Refused by the gateway and by a service reached directly (defence in depth)."""
    for base in (world.stack.gateway, world.stack.service_url("membership")):
        import httpx

        resp = httpx.get(f"{base}/api/v1/membership/me", headers=bearer(token), timeout=10)
        assert resp.status_code == 401, f"{base}: {resp.status_code} {resp.text}"
        assert resp.json()["code"] == "unauthenticated"


def test_forged_tokens_are_refused(world: World) -> None:
    claims = _claims(world, roles=["admin"])
    header = {"alg": "none", "typ": "JWT", "kid": _kid(world)}
    unsigned = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}."
    _refused_everywhere(world, unsigned)
    # Signed by a key of our own under identity's kid.
    _refused_everywhere(world, jwt.encode(claims, Ed25519PrivateKey.generate(), algorithm="EdDSA",
                                          headers={"kid": _kid(world)}))
    # Algorithm confusion: HS256 keyed with identity's public key (as published in the JWKS).
    jwks = world.ok(world.gw.get(f"{world.stack.service_url('identity')}/.well-known/jwks.json"))
    public_x = jwks["keys"][0]["x"]
    _refused_everywhere(world, jwt.encode(claims, public_x, algorithm="HS256", headers={"kid": _kid(world)}))
    # A real token with its claims changed (roles → admin) and the original signature kept.
    real = world.headers["member"]["authorization"].split()[1]
    head, _, sig = real.split(".")
    _refused_everywhere(world, f"{head}.{_b64(json.dumps(claims).encode())}.{sig}")
    # Garbage and the wrong scheme.
    for value in ("Bearer", "Bearer x.y.z", "Basic c2VjOnNlYw==", "Bearer " + "A" * 5000):
        resp = world.gw.get("/api/v1/me", headers={"authorization": value})
        assert resp.status_code == 401, value[:20]


def test_tokens_signed_by_identity_but_expired_or_of_another_kind_are_refused(world: World) -> None:
    key, kid, now = _real_key(world), _kid(world), int(time.time())
    base = _claims(world)
    # The control: the same key and claims with a fresh expiry are accepted.
    good = jwt.encode({**base, "iat": now, "exp": now + 60}, key, algorithm="EdDSA", headers={"kid": kid})
    assert world.gw.get("/api/v1/membership/me", headers=bearer(good)).status_code == 200
    for bad in ({**base, "iat": now - 1000, "exp": now - 100},  # expired
                {**base, "typ": "refresh"},  # not an access token
                {**base, "aud": "someone-else"}, {**base, "iss": "evil"},
                {k: v for k, v in base.items() if k != "exp"}):  # never expires
        _refused_everywhere(world, jwt.encode(bad, key, algorithm="EdDSA", headers={"kid": kid}))
    assert base["iss"] == ISSUER and base["aud"] == AUDIENCE


def test_refresh_token_reuse_revokes_the_family(world: World) -> None:
    _, pair = world.phone_login()
    first = world.ok(world.call("POST", "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}))
    resp = world.call("POST", "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert resp.status_code == 401 and resp.json()["code"] == "refresh_token_reused"
    # The thief's replay killed the legitimate successor too.
    resp = world.call("POST", "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert resp.status_code == 401
    # An access token is not a refresh token.
    resp = world.call("POST", "/api/v1/auth/refresh", json={"refresh_token": first["access_token"]})
    assert resp.status_code in (401, 422)


def test_logout_kills_the_refresh_token(world: World) -> None:
    _, pair = world.phone_login()
    assert world.call("POST", "/api/v1/auth/logout", json={"refresh_token": pair["refresh_token"]}).status_code == 204
    assert world.call("POST", "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}).status_code == 401


def test_five_wrong_sms_codes_kill_the_code(world: World) -> None:
    phone = world.next_phone()
    assert world.call("POST", "/api/v1/auth/sms/send", json={"phone": phone}).status_code == 202
    wrong = "000000" if CODE != "000000" else "111111"
    for _ in range(5):
        resp = world.call("POST", "/api/v1/auth/sms/login", json={"phone": phone, "code": wrong})
        assert resp.status_code == 401 and resp.json()["code"] == "invalid_code"
    resp = world.call("POST", "/api/v1/auth/sms/login", json={"phone": phone, "code": CODE})
    assert resp.status_code == 401, "the right code after 5 wrong guesses must be dead"


def test_password_brute_force_locks_the_account(world: World) -> None:
    user, password = "sec-brute-" + str(int(time.time() * 1000) % 10**8), "the-right-password-0"
    world.ok(world.call("POST", "/api/v1/admin/accounts", role="admin", json={
        "username": user, "password": password, "display_name": "x", "roles": ["staff"],
        "org_id": world.ids["city_a"]}), 201)
    codes = []
    for i in range(11):
        resp = world.call("POST", "/api/v1/auth/password/login", json={"username": user, "password": f"guess-{i}"})
        codes.append(resp.status_code)
    assert codes[:10] == [401] * 10 and codes[10] == 429, codes
    # Locked: even the right password is refused for now, and says when to come back.
    resp = world.call("POST", "/api/v1/auth/password/login", json={"username": user, "password": password})
    assert resp.status_code == 429 and int(resp.headers["retry-after"]) > 0
    # An unknown username answers exactly like a wrong password (no account enumeration).
    unknown = world.call("POST", "/api/v1/auth/password/login", json={"username": "nobody-x", "password": "x"})
    known = world.call("POST", "/api/v1/auth/password/login",
                       json={"username": "sec-staff-b", "password": "wrong-password"})
    assert unknown.status_code == known.status_code == 401
    assert unknown.json()["code"] == known.json()["code"] == "invalid_credentials"


def test_concurrent_guesses_cannot_outrun_the_lockouts(world: World) -> None:
    """30 wrong passwords (20 wrong SMS codes) at once: no more than the limit is ever checked —
    on PostgreSQL every guess used to read the failure count before any was recorded."""
    user, password = "sec-burst-" + str(int(time.time() * 1000) % 10**8), "the-right-password-0"
    world.ok(world.call("POST", "/api/v1/admin/accounts", role="admin", json={
        "username": user, "password": password, "display_name": "x", "roles": ["staff"],
        "org_id": world.ids["city_a"]}), 201)
    answers = world.burst([("POST", "/api/v1/auth/password/login", {},
                            {"username": user, "password": f"guess-{i}"}) for i in range(30)])
    codes = sorted(r.status_code for r in answers)
    assert codes.count(401) <= 10 and set(codes) <= {401, 429}, codes
    assert world.call("POST", "/api/v1/auth/password/login",
                      json={"username": user, "password": password}).status_code == 429
    phone = world.next_phone()
    assert world.call("POST", "/api/v1/auth/sms/send", json={"phone": phone}).status_code == 202
    wrong = [f"{(int(CODE) + i + 1) % 10**6:06d}" for i in range(20)]
    answers = world.burst([("POST", "/api/v1/auth/sms/login", {}, {"phone": phone, "code": code}) for code in wrong])
    assert {r.status_code for r in answers} == {401}
    resp = world.call("POST", "/api/v1/auth/sms/login", json={"phone": phone, "code": CODE})
    assert resp.status_code == 401, "the right code after 20 wrong guesses must be dead"


def test_services_reached_directly_trust_no_header_and_no_forged_service_token(world: World) -> None:
    import httpx

    membership = world.stack.service_url("membership")
    # No bearer: identity headers the outside world could set mean nothing.
    resp = httpx.get(f"{membership}/api/v1/membership/me", timeout=10,
                     headers={"x-account-id": world.accounts["member"], "x-roles": "admin", "x-user-id": "x"})
    assert resp.status_code == 401
    # Internal routes want a service token signed with the shared secret.
    for token in (None, ServiceSigner("not-the-secret-0123456789abcdef0123", "benefits").token_for("membership"),
                  jwt.encode({"iss": "benefits", "aud": "membership", "exp": int(time.time()) + 60, "typ": "service"},
                             None, algorithm="none")):
        headers = {"x-service-token": token} if token else {}
        resp = httpx.post(f"{membership}/internal/qr/check", json={"token": "x"}, headers=headers, timeout=10)
        assert resp.status_code == 401, resp.text
