from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class TransferCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to_org_id: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=500)


class TransferDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500)


class TransferRead(BaseModel):
    id: str
    status: str
    member_id: str
    from_org_id: str
    to_org_id: str
    reason: str | None
    created_at: datetime
    decided_at: datetime | None = None
    decision_reason: str | None = None


class TransferList(BaseModel):
    items: list[TransferRead]
    next_cursor: str | None = None
