"""Staff password login: argon2id hashes and a lockout after too many failures."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.db import utcnow
from services.common.errors import RateLimited
from services.identity.accounts import repository as accounts
from services.identity.accounts.models import Account
from services.identity.passwords import repository
from services.identity.passwords.errors import InvalidCredentials

_hasher = PasswordHasher()
# Verified against when the username is unknown, so timing does not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash("smartunion-dummy-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _verify(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


async def login(*, session: AsyncSession, username: str, password: str, max_failures: int,
                window: int) -> Account:
    since = utcnow() - timedelta(seconds=window)
    await repository.lock_username(session, username)
    failures = await repository.failures_since(session, username, since)
    if len(failures) >= max_failures:
        retry = failures[0] + timedelta(seconds=window) - utcnow()
        raise RateLimited(int(retry.total_seconds()) + 1, "登录失败次数过多，请稍后再试")
    account = await accounts.by_username(session, username)
    # argon2 is deliberately slow (~50 ms): keep it off the event loop.
    valid = await asyncio.to_thread(_verify, account.password_hash if account else None, password)
    if not valid or account is None or account.status != "active":
        await repository.record_failure(session, username)
        # The failure must outlive this request's rollback: that is what the lockout counts.
        await session.commit()
        raise InvalidCredentials
    await repository.clear_failures(session, username)
    return account
