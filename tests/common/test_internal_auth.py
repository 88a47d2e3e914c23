"""Service tokens: verified ones are remembered, but never past their expiry or for another callee."""

from __future__ import annotations

import time

import jwt
import pytest

from services.common.errors import Unauthenticated
from services.common.internal_auth import ServiceSigner

SECRET = "test-internal-secret-0123456789abcdef"


def test_cached_token_still_expires_and_keeps_its_audience() -> None:
    membership = ServiceSigner(SECRET, "membership")
    now = int(time.time())
    token = jwt.encode({"iss": "benefits", "aud": "membership", "exp": now + 1, "iat": now, "typ": "service"},
                       SECRET, algorithm="HS256")
    assert membership.verify(token, "membership")["iss"] == "benefits"
    assert membership.verify(token, "membership")["iss"] == "benefits"  # from the cache
    with pytest.raises(Unauthenticated):
        membership.verify(token, "jobs")
    time.sleep(1.1)
    with pytest.raises(Unauthenticated):
        membership.verify(token, "membership")


def test_tampered_token_is_checked_in_full() -> None:
    benefits = ServiceSigner(SECRET, "benefits")
    membership = ServiceSigner(SECRET, "membership")
    token = benefits.token_for("membership")
    assert membership.verify(token, "membership")["iss"] == "benefits"
    with pytest.raises(Unauthenticated):
        membership.verify(token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "membership")
    forged = jwt.encode({"iss": "benefits", "aud": "membership", "exp": int(time.time()) + 60, "typ": "service"},
                        "another-secret-0123456789abcdef0123", algorithm="HS256")
    with pytest.raises(Unauthenticated):
        membership.verify(forged, "membership")
