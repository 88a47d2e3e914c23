"""Mainland China mobile numbers: 11 digits starting 1[3-9]; +86 / 0086 prefixes accepted."""

from __future__ import annotations

import re

from services.common.errors import Unprocessable

_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def normalize_phone(raw: str) -> str:
    phone = re.sub(r"[\s-]", "", raw)
    for prefix in ("+86", "0086"):
        if phone.startswith(prefix):
            phone = phone[len(prefix):]
    if not _MOBILE.match(phone):
        raise Unprocessable("手机号格式不正确", code="invalid_phone")
    return phone
