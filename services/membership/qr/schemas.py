from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Reason = Literal["expired", "invalid", "used", "suspended", "not_a_member"]


class QrIssued(BaseModel):
    token: str
    expires_at: datetime


class QrTokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Anything up to 512 characters is accepted and answered "invalid" when it is not ours.
    token: str = Field(max_length=512)


class QrMember(BaseModel):
    member_id: str
    account_id: str
    status: str
    name_masked: str | None
    card_no_masked: str | None
    org_id: str
    org_name: str
    org_path: str


class QrCheck(BaseModel):
    valid: bool
    reason: Reason | None
    member: QrMember | None


class QrReleased(BaseModel):
    released: bool
