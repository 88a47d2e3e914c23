from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Category = Literal["food", "clothing", "lodging", "transport", "medical", "shopping", "travel", "entertainment"]
CATEGORIES: tuple[str, ...] = ("food", "clothing", "lodging", "transport", "medical", "shopping", "travel",
                               "entertainment")


class MerchantCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)

    name: str = Field(min_length=1, max_length=100)
    category: Category
    address: str = Field(min_length=1, max_length=200)
    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)
    phone: str | None = Field(default=None, max_length=32, pattern=r"^[0-9+\-() ]{3,32}$")
    # Optional addition to the contract: the owning org inside the creator's subtree (admin: any).
    # Defaults to the creator's own org.
    org_id: str | None = Field(default=None, max_length=64)


class MerchantRead(BaseModel):
    id: str
    org_id: str | None
    name: str
    category: str
    address: str
    lat: float
    lng: float
    phone: str | None
    created_at: datetime


class MerchantList(BaseModel):
    items: list[MerchantRead]
    next_cursor: str | None = None


class CredentialCreated(BaseModel):
    key_id: str
    secret: str
    merchant_id: str
    created_at: datetime


class CredentialRead(BaseModel):
    key_id: str
    merchant_id: str
    created_at: datetime
    revoked_at: datetime | None


class CredentialList(BaseModel):
    items: list[CredentialRead]
