from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from services.common.config import CommonSettings


class JobsSettings(CommonSettings):
    service_name: ClassVar[str] = "jobs"
    model_config = SettingsConfigDict(env_prefix="JOBS_", extra="ignore", populate_by_name=True)

    # Anti-spam: postings (new jobs and edits) per account per window; multiplied by RATE_LIMIT_SCALE.
    post_rate_limit: int = 20
    post_rate_window: int = 3600
    max_expiry_days: int = 180
    # Applications per account per hour (one per job is a hard rule; this slows bulk spam).
    apply_rate_limit: int = 60
    # Seconds between outbox delivery passes (notifications to identity); 0 disables the relay.
    outbox_interval: float = 1.0
