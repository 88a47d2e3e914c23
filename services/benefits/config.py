from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from services.common.config import CommonSettings


class BenefitsSettings(CommonSettings):
    service_name: ClassVar[str] = "benefits"
    model_config = SettingsConfigDict(env_prefix="BENEFITS_", extra="ignore", populate_by_name=True)
