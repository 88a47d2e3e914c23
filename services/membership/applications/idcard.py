"""Resident ID numbers (GB 11643-1999) and real names.

An ID number is 17 digits and a check character: ISO 7064 MOD 11-2 over the first 17 digits with
weights 2^(17-i) mod 11, check = (12 - sum mod 11) mod 11, where 10 is written "X". Digits 7-14 are
the birth date, which must exist and not be in the future. A lowercase "x" is accepted and stored
as "X"."""

from __future__ import annotations

import re
from datetime import date

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_ID_RE = re.compile(r"^[1-9]\d{16}[\dX]$")
# Chinese characters (CJK unified ideographs incl. extension A) with the middle dot of minority
# and transliterated names (买买提·艾力), which may not lead, trail or repeat.
_NAME_RE = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff]+(?:[·•][\u3400-\u4dbf\u4e00-\u9fff]+)*$")


def check_character(first17: str) -> str:
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def normalize_id_number(value: str, *, today: date | None = None) -> str | None:
    """The canonical ID number, or None when it is not a valid GB 11643 number."""
    number = value.strip().upper()
    if not _ID_RE.match(number):
        return None
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None
    if born > (today or date.today()) or born.year < 1900:
        return None
    if check_character(number[:17]) != number[17]:
        return None
    return number


def normalize_real_name(value: str) -> str | None:
    name = value.strip().replace("•", "·")
    if not 2 <= len(name) <= 30 or not _NAME_RE.match(name):
        return None
    return name
