from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["admin", "staff", "lawyer", "employer"]


class MeRead(BaseModel):
    id: str
    roles: list[str]
    display_name: str | None
    phone_masked: str | None
    org_id: str | None


class AccountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(min_length=10, max_length=128)
    display_name: str = Field(min_length=1, max_length=64)
    roles: list[Role] = Field(min_length=1, max_length=4)
    org_id: str | None = Field(default=None, max_length=64)


class AccountRead(BaseModel):
    id: str
    username: str
    roles: list[str]
    org_id: str | None


class InternalAccountRead(BaseModel):
    id: str
    roles: list[str]
    org_id: str | None
    status: str
    display_name: str | None
    phone_masked: str | None
    created_at: datetime


class RevocationItem(BaseModel):
    account_id: str
    revoked_at: float


class RevocationList(BaseModel):
    items: list[RevocationItem]
    cursor: int
