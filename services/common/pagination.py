"""Cursor pagination: `?limit=` (1..100, default 20) and an opaque `?cursor=`.

The cursor encodes the sort key of the last item returned (e.g. `[created_at, id]`), so a page
stays stable while rows are inserted before it.
"""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from services.common.errors import ProblemError

T = TypeVar("T")

Limit = Annotated[int, Query(ge=1, le=100, description="page size")]
Cursor = Annotated[str | None, Query(max_length=512, description="opaque cursor from next_cursor")]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> list[Any] | None:
    if not cursor:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, UnicodeDecodeError):
        raise ProblemError("游标无效", code="invalid_cursor", status=422) from None
    if not isinstance(value, list):
        raise ProblemError("游标无效", code="invalid_cursor", status=422)
    return value
