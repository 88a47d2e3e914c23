"""Rotating QR tokens: base64url(id[16] ‖ expiry[4] ‖ HMAC-SHA256(key, "qr1" ‖ id ‖ expiry)[:16]),
48 characters. No personal data inside: the id is random and names a row on our side; the MAC
makes forging or altering one infeasible without the server key. Several keys may be configured
("new,old"): the first signs, all verify, so the key rotates without invalidating live codes."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import struct
from dataclasses import dataclass

_ID_BYTES, _EXP_BYTES, _MAC_BYTES = 16, 4, 16
_RAW_LEN = _ID_BYTES + _EXP_BYTES + _MAC_BYTES
TOKEN_LENGTH = 48
_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@dataclass(frozen=True, slots=True)
class ParsedToken:
    token_id: str  # hex, the qr_tokens primary key
    expires_at: int  # unix seconds


class QrCodec:
    def __init__(self, keys: list[bytes]) -> None:
        if not keys or any(len(k) < 32 for k in keys):
            raise ValueError("QR keys must be at least 32 bytes")
        self._keys = keys

    @classmethod
    def from_spec(cls, spec: str) -> QrCodec:
        return cls([k.strip().encode() for k in spec.split(",") if k.strip()])

    def _mac(self, key: bytes, body: bytes) -> bytes:
        return hmac.new(key, b"qr1" + body, hashlib.sha256).digest()[:_MAC_BYTES]

    def issue(self, expires_at: int) -> tuple[str, str]:
        """A new token and its row id."""
        raw_id = secrets.token_bytes(_ID_BYTES)
        body = raw_id + struct.pack(">I", expires_at)
        token = base64.urlsafe_b64encode(body + self._mac(self._keys[0], body)).decode()
        return token, raw_id.hex()

    def parse(self, token: str) -> ParsedToken | None:
        """The token's id and expiry when its MAC is right, else None (invalid)."""
        if len(token) != TOKEN_LENGTH or not _ALPHABET.issuperset(token):
            return None
        try:
            raw = base64.urlsafe_b64decode(token)
        except (binascii.Error, ValueError):
            return None
        if len(raw) != _RAW_LEN:
            return None
        body, mac = raw[: _ID_BYTES + _EXP_BYTES], raw[_ID_BYTES + _EXP_BYTES:]
        if not any(hmac.compare_digest(mac, self._mac(key, body)) for key in self._keys):
            return None
        (expires_at,) = struct.unpack(">I", body[_ID_BYTES:])
        return ParsedToken(token_id=body[:_ID_BYTES].hex(), expires_at=expires_at)


def mask_card_no(card_no: str | None) -> str | None:
    if not card_no:
        return None
    return card_no[:4] + "*" * (len(card_no) - 8) + card_no[-4:]
