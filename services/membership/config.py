from __future__ import annotations

from typing import ClassVar

from pydantic import model_validator
from pydantic_settings import SettingsConfigDict

from services.common.config import CommonSettings


class MembershipSettings(CommonSettings):
    service_name: ClassVar[str] = "membership"
    model_config = SettingsConfigDict(env_prefix="MEMBERSHIP_", extra="ignore", populate_by_name=True)

    # MAC key of the rotating QR codes (MEMBERSHIP_QR_KEY, at least 32 characters). Every replica
    # must share it; in development it is generated once into the data dir.
    qr_key: str | None = None
    qr_ttl: int = 60
    # A consumed token may be released (benefits' own transaction failed) within this window.
    qr_release_window: int = 60
    qr_issue_per_minute: int = 30
    # Seconds between outbox delivery passes (notifications to identity); 0 disables the relay.
    outbox_interval: float = 1.0

    @model_validator(mode="after")
    def _production_rules(self) -> MembershipSettings:
        if self.is_production and (not self.qr_key or len(self.qr_key) < 32):
            raise ValueError("production requires MEMBERSHIP_QR_KEY (at least 32 characters)")
        if not 1 <= self.qr_ttl <= 60:
            raise ValueError("qr_ttl must be 1..60 seconds")
        return self
