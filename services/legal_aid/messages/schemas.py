from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class MessageCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    body: str = Field(min_length=1, max_length=10_000)
    internal: bool = False


class MessageRead(BaseModel):
    id: str
    ticket_id: str
    author_id: str
    author_role: Literal["owner", "assignee", "staff"]
    internal: bool
    body: str
    redacted: bool
    created_at: datetime


class MessageList(BaseModel):
    items: list[MessageRead]
    next_cursor: str | None
