from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class EventIn(BaseModel):
    id: str = Field(min_length=1, max_length=64)
    topic: str = Field(min_length=1, max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict)


class EventAck(BaseModel):
    status: str
