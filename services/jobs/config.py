from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from services.common.config import CommonSettings


class JobsSettings(CommonSettings):
    service_name: ClassVar[str] = "jobs"
    model_config = SettingsConfigDict(env_prefix="JOBS_", extra="ignore", populate_by_name=True)
