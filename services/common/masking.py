"""Masking of personal data in answers (CONTRACT §2): 138****5678, 110105********002X, 张* / 欧阳**."""

from __future__ import annotations

# Common two-character Chinese surnames; for these the surname keeps two characters.
_COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 轩辕 令狐 钟离 端木 独孤 南宫 西门".split()
)


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return None
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "*" * len(phone)


def mask_id_number(id_number: str | None) -> str | None:
    if not id_number:
        return None
    return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]


def mask_name(name: str | None) -> str | None:
    if not name:
        return None
    keep = 2 if name[:2] in _COMPOUND_SURNAMES and len(name) > 2 else 1
    return name[:keep] + "*" * (len(name) - keep)
