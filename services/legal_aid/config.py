from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from services.common.config import CommonSettings

MIB = 1024 * 1024


class LegalAidSettings(CommonSettings):
    service_name: ClassVar[str] = "legal_aid"
    model_config = SettingsConfigDict(env_prefix="LEGAL_AID_", extra="ignore", populate_by_name=True)

    # CONTRACT §6: attachments up to 10 MiB. The request body may carry a little multipart
    # framing on top; the middleware cuts anything beyond `attachment_body_limit` while streaming.
    attachment_max_bytes: int = 10 * MIB
    attachment_body_limit: int = 10 * MIB + MIB // 2
    # First public reply due this many working days after submission (CONTRACT §6).
    first_response_working_days: int = 2
    # Seconds between outbox delivery passes (notifications to identity); 0 disables the relay.
    outbox_interval: float = 1.0
