from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Kind = Literal["application_approved", "application_rejected", "ticket_reply", "ticket_status",
               "job_application_seen", "transfer_completed"]


class NotificationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: str
    title: str
    body: str
    created_at: datetime
    read_at: datetime | None
    link: str | None


class NotificationList(BaseModel):
    items: list[NotificationRead]
    next_cursor: str | None


class NotificationPayload(BaseModel):
    """What a producing service sends (topic `notification`)."""

    account_id: str = Field(max_length=32)
    kind: Kind
    title: str = Field(max_length=100)
    body: str = Field(max_length=500)
    link: str | None = Field(default=None, max_length=300)


class SubscriptionGrant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kinds: list[Kind] = Field(min_length=1, max_length=6)


class SubscriptionRead(BaseModel):
    kind: str
    remaining: int
