from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from services.jobs.postings.schemas import JobStatus, no_control


class ApplicationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    message: Annotated[str, AfterValidator(no_control)] = Field(default="", max_length=500)
    # Optional name to show the employer; only its mask is stored (张*).
    name: Annotated[str, AfterValidator(no_control)] | None = Field(default=None, max_length=40)


class ApplicationRead(BaseModel):
    """What the poster and staff see: masked data only."""

    id: str
    job_id: str
    applicant_name_masked: str | None
    applicant_phone_masked: str
    message: str
    created_at: datetime
    seen_at: datetime | None


class ApplicationList(BaseModel):
    items: list[ApplicationRead]
    next_cursor: str | None = None


class MyApplicationRead(BaseModel):
    id: str
    job_id: str
    job_title: str
    job_status: JobStatus
    employer_name: str
    city: str
    contact_phone: str | None
    message: str
    created_at: datetime
    seen_at: datetime | None


class MyApplicationList(BaseModel):
    items: list[MyApplicationRead]
    next_cursor: str | None = None
