from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

# Free text that must say something: surrounding blanks stripped, then 1..500 characters.
Text500 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class CardRead(BaseModel):
    card_no: str
    status: str
    issued_at: datetime


class MemberMe(BaseModel):
    member_id: str
    status: str
    org_id: str
    org_name: str
    real_name_masked: str | None
    id_number_masked: str | None
    joined_at: datetime
    card: CardRead | None


class MemberRead(BaseModel):
    """A member as staff see it: masked, card number masked too."""

    member_id: str
    status: str
    org_id: str
    org_name: str
    real_name_masked: str | None
    id_number_masked: str | None
    card_no_masked: str | None
    joined_at: datetime


class MemberList(BaseModel):
    items: list[MemberRead]
    next_cursor: str | None = None


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Text500


class MemberStatus(BaseModel):
    member_id: str
    status: str


class InternalMember(BaseModel):
    member_id: str
    account_id: str
    status: str
    org_id: str
    org_name: str
    org_path: str
    card_no: str | None
