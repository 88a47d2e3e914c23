from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from services.common.config import CommonSettings


class LegalAidSettings(CommonSettings):
    service_name: ClassVar[str] = "legal_aid"
    model_config = SettingsConfigDict(env_prefix="LEGAL_AID_", extra="ignore", populate_by_name=True)
