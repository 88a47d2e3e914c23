"""SMS login codes: 6 digits, valid 5 minutes, one send per phone per minute, a per-IP send
budget, and dead after 5 wrong guesses. Test phones (SMS_TEST_CODES) are never sent."""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.crypto import PiiCipher
from services.common.db import utcnow
from services.common.errors import RateLimited
from services.common.kv import KeyValueStore
from services.identity.config import IdentitySettings
from services.identity.sms import repository
from services.identity.sms.errors import InvalidCode
from services.identity.sms.models import SmsCode
from services.identity.sms.sender import SmsSender


def _code_hash(pii: PiiCipher, phone: str, code: str) -> str:
    return pii.lookup_hash(f"sms:{phone}:{code}")


async def send_code(*, session: AsyncSession, phone: str, client_ip: str, settings: IdentitySettings,
                    pii: PiiCipher, kv: KeyValueStore, sender: SmsSender) -> int:
    test_code = settings.test_codes().get(phone)
    phone_hash = pii.lookup_hash(f"phone:{phone}")
    last = await repository.latest(session, phone_hash)
    now = utcnow()
    if last is not None and last.created_at > now - timedelta(seconds=settings.sms_resend_interval):
        wait = (last.created_at + timedelta(seconds=settings.sms_resend_interval) - now).total_seconds()
        raise RateLimited(int(wait) + 1, "验证码发送过于频繁，请稍后再试")
    if test_code is None:
        allowed, retry = await kv.hit(f"sms-ip:{client_ip}", int(settings.sms_per_ip_per_hour
                                                                 * settings.rate_limit_scale), 3600)
        if not allowed:
            raise RateLimited(retry, "该网络发送验证码过多，请稍后再试")
    code = test_code or f"{secrets.randbelow(1_000_000):06d}"
    await repository.kill_live(session, phone_hash)
    await repository.add(session, SmsCode(phone_hash=phone_hash, code_hash=_code_hash(pii, phone, code),
                                          expires_at=now + timedelta(seconds=settings.sms_code_ttl)))
    if test_code is None:
        await sender.send_login_code(phone, code)
    return settings.sms_code_ttl


async def check_code(*, session: AsyncSession, phone: str, code: str, settings: IdentitySettings,
                     pii: PiiCipher) -> None:
    """Accept the live code once; count a wrong guess (committed despite the 401)."""
    phone_hash = pii.lookup_hash(f"phone:{phone}")
    live = await repository.latest(session, phone_hash)
    now = utcnow()
    test_code = settings.test_codes().get(phone)
    spent = live is None or (live.attempts < settings.sms_max_attempts and (live.dead or live.expires_at <= now))
    if test_code is not None and spent:
        # A test phone may log in without asking for a code first, like Firebase test numbers;
        # a code killed by wrong guesses stays dead until the next send, as for everyone.
        live = SmsCode(phone_hash=phone_hash, code_hash=_code_hash(pii, phone, test_code),
                       expires_at=now + timedelta(seconds=settings.sms_code_ttl))
        await repository.add(session, live)
    if live is None or live.dead or live.expires_at <= now:
        raise InvalidCode
    if not hmac.compare_digest(live.code_hash, _code_hash(pii, phone, code)):
        await repository.count_failure(session, live.id, settings.sms_max_attempts)
        await session.commit()
        raise InvalidCode
    if not await repository.consume(session, live.id, now):
        raise InvalidCode
