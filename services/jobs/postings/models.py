from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import UtcDateTime, utcnow
from services.common.ids import new_id
from services.jobs.database import Base

# Stored statuses. "expired" is never stored: a published job whose expires_at has passed is
# expired by definition, in every query (no cron job has to run for it to disappear).
PENDING, PUBLISHED, REJECTED, CLOSED = "pending_review", "published", "rejected", "closed"


class Job(Base):
    __tablename__ = "jobs"

    # Integer key: SQLite's rowid alias, which the FTS5 index points at (a plain rowid could be
    # renumbered by VACUUM). The public id is the time-ordered string.
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                     autoincrement=True)
    id: Mapped[str] = mapped_column(String(32), unique=True, default=new_id)
    poster_id: Mapped[str] = mapped_column(String(32))
    org_id: Mapped[str] = mapped_column(String(32))
    # Materialised org path ("/root/child/") so that a staff member's subtree is a range scan.
    org_path: Mapped[str] = mapped_column(String(512))
    title: Mapped[str] = mapped_column(String(60))
    employer_name: Mapped[str] = mapped_column(String(100))
    employer_credit_code: Mapped[str | None] = mapped_column(String(18))
    city: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(32))
    salary_min: Mapped[int] = mapped_column(Integer)
    salary_max: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text, default="")
    # The contact phone may be a recruiter's own mobile: encrypted at rest, masked for the public.
    contact_phone_enc: Mapped[str | None] = mapped_column(String(200))
    contact_phone_masked: Mapped[str | None] = mapped_column(String(20))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    close_reason: Mapped[str | None] = mapped_column(String(16))
    review_reason: Mapped[str | None] = mapped_column(String(500))
    reviewed_by: Mapped[str | None] = mapped_column(String(32))
    reviewed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # jieba tokens of title + description, space-joined; indexed by FTS5 (SQLite, kept in step by
    # triggers) or by a generated tsvector column with a GIN index (PostgreSQL). See migrations.
    search_text: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        # Public listing, newest first, with and without a city.
        Index("ix_jobs_status_published", "status", "published_at"),
        Index("ix_jobs_city_status_published", "city", "status", "published_at"),
        # Poster's own jobs; duplicate-posting check.
        Index("ix_jobs_poster_created", "poster_id", "created_at"),
        # Review queue of a subtree.
        Index("ix_jobs_status_org_path", "status", "org_path"),
    )
