from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from services.jobs.postings.checks import normalize_city


def no_control(value: str) -> str:
    """Refuse NUL and other control characters (PostgreSQL cannot store NUL in text; none belongs
    in a job posting). Line breaks and tabs are fine."""
    if any(ord(ch) < 32 and ch not in "\n\r\t" for ch in value):
        raise ValueError("包含不允许的控制字符")
    return value


def _squash(value: str) -> str:
    return " ".join(no_control(value).split())


def _has_word(value: str) -> str:
    if not any(ch.isalnum() for ch in value):
        raise ValueError("需要包含文字")
    return value


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("时间需带时区（RFC 3339）")
    return value


Title = Annotated[str, AfterValidator(_squash), Field(min_length=2, max_length=60), AfterValidator(_has_word)]
Name = Annotated[str, AfterValidator(_squash), Field(min_length=1, max_length=100), AfterValidator(_has_word)]
City = Annotated[str, AfterValidator(_squash), AfterValidator(normalize_city), Field(min_length=1, max_length=32),
                 AfterValidator(_has_word)]
Category = Annotated[str, AfterValidator(_squash), Field(min_length=1, max_length=32), AfterValidator(_has_word)]
# Yuan per month; the upper bound only stops absurd numbers.
Salary = Annotated[int, Field(gt=0, le=1_000_000)]
Description = Annotated[str, Field(max_length=5000), AfterValidator(no_control)]
Phone = Annotated[str, Field(min_length=1, max_length=30), AfterValidator(no_control)]
CreditCode = Annotated[str, Field(min_length=18, max_length=20), AfterValidator(no_control)]
Expiry = Annotated[datetime, AfterValidator(_aware)]


class JobCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: Title
    employer_name: Name
    city: City
    category: Category
    salary_min: Salary
    salary_max: Salary
    description: Description = ""
    contact_phone: Phone
    expires_at: Expiry
    employer_credit_code: CreditCode | None = None
    # Only an admin chooses the org; everyone else posts into their own org (or, for staff, an
    # org inside their subtree).
    org_id: str | None = Field(default=None, max_length=64, pattern=r"^[0-9A-Za-z_-]+$")

    @model_validator(mode="after")
    def _salary_range(self) -> JobCreate:
        if self.salary_min > self.salary_max:
            raise ValueError("salary_min 不能大于 salary_max")
        return self


class JobUpdate(BaseModel):
    """Partial edit by the poster; any change sends a published job back to review."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: Title | None = None
    employer_name: Name | None = None
    city: City | None = None
    category: Category | None = None
    salary_min: Salary | None = None
    salary_max: Salary | None = None
    description: Description | None = None
    contact_phone: Phone | None = None
    expires_at: Expiry | None = None
    employer_credit_code: CreditCode | None = None


class JobReview(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    decision: Literal["approve", "reject"]
    reason: Annotated[str, AfterValidator(no_control)] | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _reason_for_reject(self) -> JobReview:
        if self.decision == "reject" and not self.reason:
            raise ValueError("驳回需要填写原因")
        return self


class JobClose(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Literal["filled", "withdrawn"]


JobStatus = Literal["pending_review", "published", "rejected", "expired", "closed"]


class JobRead(BaseModel):
    id: str
    status: JobStatus
    org_id: str
    title: str
    employer_name: str
    employer_verified: bool
    city: str
    category: str
    salary_min: int
    salary_max: int
    description: str
    contact_phone_masked: str | None
    # The full number only for the poster, staff in scope and the job's applicants.
    contact_phone: str | None = None
    expires_at: datetime
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    close_reason: str | None
    review_reason: str | None = None
    # True for the poster, staff in scope and admins: what they may do with it.
    can_manage: bool = False


class JobList(BaseModel):
    items: list[JobRead]
    next_cursor: str | None = None
