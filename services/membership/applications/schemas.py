from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# Free text that must say something: surrounding blanks stripped, then 1..500 characters.
Text500 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class ApplicationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    real_name: str = Field(min_length=1, max_length=64)
    id_number: str = Field(min_length=1, max_length=32)
    org_id: str = Field(min_length=1, max_length=64)
    employer_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class Rejection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Text500


class ApplicationRead(BaseModel):
    id: str
    status: Literal["pending", "approved", "rejected", "withdrawn"]
    real_name_masked: str | None
    id_number_masked: str | None
    org_id: str
    employer_name: str | None
    created_at: datetime
    member_id: str | None = None
    reason: str | None = None
    decided_at: datetime | None = None


class ApplicationList(BaseModel):
    items: list[ApplicationRead]
    next_cursor: str | None = None
