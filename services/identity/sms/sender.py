"""Where SMS codes go. A real provider (Aliyun SMS, Tencent Cloud SMS) implements `SmsSender`;
development logs *that* a code was sent — never the code or the full phone."""

from __future__ import annotations

import logging
from typing import Protocol

from services.common.masking import mask_phone

logger = logging.getLogger("smartunion.identity.sms")


class SmsSender(Protocol):
    async def send_login_code(self, phone: str, code: str) -> None: ...


class DevelopmentSmsSender:
    async def send_login_code(self, phone: str, code: str) -> None:
        logger.info("sms login code sent", extra={"fields": {"to": mask_phone(phone)}})
