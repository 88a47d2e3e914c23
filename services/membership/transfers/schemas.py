from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# Free text that must say something: surrounding blanks stripped, then 1..500 characters.
Text500 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class TransferCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to_org_id: str = Field(min_length=1, max_length=64)
    reason: Text500


class TransferDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Text500


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
