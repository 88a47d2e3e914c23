from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints


class OrgCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    parent_id: str | None = Field(default=None, max_length=64)


class OrgRead(BaseModel):
    id: str
    name: str
    parent_id: str | None
    path: str
    depth: int


class OrgList(BaseModel):
    items: list[OrgRead]
    next_cursor: str | None = None


class InternalOrgRead(BaseModel):
    id: str
    name: str
    parent_id: str | None
    path: str
    depth: int
