from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from services.common.config import CommonSettings


class MembershipSettings(CommonSettings):
    service_name: ClassVar[str] = "membership"
    model_config = SettingsConfigDict(env_prefix="MEMBERSHIP_", extra="ignore", populate_by_name=True)
