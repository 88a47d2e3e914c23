"""Input checks that are more than a length: mainland mobile numbers, the GB 32100-2015 check
character of a unified social credit code (统一社会信用代码), city names."""

from __future__ import annotations

import re

from services.jobs.postings.errors import InvalidCreditCode, InvalidPhone

_MOBILE = re.compile(r"^1[3-9]\d{9}$")

# GB 32100-2015: 31 characters (no I, O, S, V, Z); weights 3^i mod 31 for positions 1..17.
CREDIT_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_VALUE = {c: i for i, c in enumerate(CREDIT_CHARSET)}
_CREDIT_WEIGHTS = [pow(3, i, 31) for i in range(17)]


def normalize_mobile(raw: str) -> str:
    phone = re.sub(r"[\s-]", "", raw)
    for prefix in ("+86", "0086"):
        if phone.startswith(prefix):
            phone = phone[len(prefix):]
    if not _MOBILE.match(phone):
        raise InvalidPhone
    return phone


def credit_check_char(first17: str) -> str:
    total = sum(_CREDIT_VALUE[c] * w for c, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return CREDIT_CHARSET[(31 - total % 31) % 31]


def is_valid_credit_code(code: str) -> bool:
    if len(code) != 18 or any(c not in _CREDIT_VALUE for c in code):
        return False
    # Positions 3-8 are the administrative division code (digits); 9-17 the organisation code.
    if not code[2:8].isdigit():
        return False
    return credit_check_char(code[:17]) == code[17]


def normalize_credit_code(raw: str) -> str:
    code = raw.strip().upper()
    if not is_valid_credit_code(code):
        raise InvalidCreditCode
    return code


def normalize_city(raw: str) -> str:
    """深圳市 and 深圳 are the same city for search; store and filter the short form."""
    city = " ".join(raw.split())
    if len(city) > 2 and city.endswith("市"):
        city = city[:-1]
    return city
