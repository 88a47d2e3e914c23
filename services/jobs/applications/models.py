from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import UtcDateTime, utcnow
from services.common.ids import new_id
from services.jobs.database import Base


class Application(Base):
    """One application per user per job (the unique constraint is the rule, not a pre-check).
    Only masked personal data is stored: the employer never needs more than the masks."""

    __tablename__ = "job_applications"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    applicant_id: Mapped[str] = mapped_column(String(32))
    name_masked: Mapped[str | None] = mapped_column(String(40))
    phone_masked: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (
        UniqueConstraint("job_id", "applicant_id", name="uq_job_applications_job_applicant"),
        Index("ix_job_applications_job_created", "job_id", "created_at"),
        Index("ix_job_applications_applicant_created", "applicant_id", "created_at"),
    )
