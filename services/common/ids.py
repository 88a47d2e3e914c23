"""Identifiers: time-ordered (UUIDv7-like) 32-hex strings, so B-tree inserts stay local and
"newest first" can sort by id."""

import secrets
import time


def new_id() -> str:
    return f"{time.time_ns() // 1_000_000:012x}{secrets.randbits(80):020x}"
