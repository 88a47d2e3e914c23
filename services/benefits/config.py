from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from services.common.config import CommonSettings


class BenefitsSettings(CommonSettings):
    service_name: ClassVar[str] = "benefits"
    model_config = SettingsConfigDict(env_prefix="BENEFITS_", extra="ignore", populate_by_name=True)

    # Merchant request signing (CONTRACT §5): accepted clock difference, and how long a nonce is
    # remembered (longer than the whole window on both sides, so a nonce cannot come back).
    signature_window: int = 300
    nonce_ttl: int = 900
    # A duplicate redemption that arrives while the first is still running waits this long for
    # the first one's answer before giving up with 409 idempotency_key_in_progress.
    idempotency_wait: float = 10.0
