from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Category = Literal["wage_arrears", "labor_contract", "work_injury", "social_insurance", "dismissal", "other"]
Status = Literal["submitted", "accepted", "waiting_member", "resolved", "closed", "rejected"]
Action = Literal["accept", "reject", "request_info", "resolve", "close"]
Sort = Literal["newest", "due"]


class TicketCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    category: Category
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=10_000)
    employer_name: str | None = Field(default=None, max_length=200)
    amount_involved_fen: int | None = Field(default=None, ge=0, le=10**13)
    org_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


class RatingInfo(BaseModel):
    score: int
    comment: str | None
    created_at: datetime


class TicketSummary(BaseModel):
    id: str
    status: Status
    category: Category
    title: str
    org_id: str
    owner_id: str
    assignee_id: str | None
    first_response_due_at: datetime
    first_response_at: datetime | None
    overdue: bool
    clock_paused: bool
    calendar_fallback: bool
    message_count: int
    created_at: datetime
    updated_at: datetime


class TicketRead(TicketSummary):
    description: str
    employer_name: str | None
    amount_involved_fen: int | None
    rating: RatingInfo | None = None


class TicketList(BaseModel):
    items: list[TicketSummary]
    next_cursor: str | None


class AssignRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lawyer_id: str = Field(min_length=1, max_length=64)  # any other id: 422 invalid_assignee


class ActionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    action: Action
    note: str | None = Field(default=None, max_length=2000)


class EventRead(BaseModel):
    id: str
    ticket_id: str
    actor_id: str
    action: str
    from_status: str | None
    to_status: str
    from_assignee_id: str | None
    to_assignee_id: str | None
    note: str | None
    created_at: datetime


class EventList(BaseModel):
    items: list[EventRead]
    next_cursor: str | None


class RatingCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    score: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=1000)


class RatingRead(BaseModel):
    ticket_id: str
    score: int
    comment: str | None
    created_at: datetime
