from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.common.config import SERVICE_NAMES, CommonSettings

# Public path prefixes (under /api/v1) and the service that owns them.
ROUTES: dict[str, str] = {
    "auth": "identity", "me": "identity", "admin": "identity", "notifications": "identity",
    "orgs": "membership", "membership": "membership",
    "benefits": "benefits", "merchant": "benefits",
    "legal": "legal_aid",
    "jobs": "jobs",
}


class GatewaySettings(CommonSettings):
    service_name: ClassVar[str] = "gateway"
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore", populate_by_name=True)

    port: int = Field(8000, validation_alias="GATEWAY_PORT")
    connect_timeout: float = 1.0
    read_timeout: float = 10.0
    upload_read_timeout: float = 60.0
    home_part_timeout: float = 1.0
    breaker_failures: int = 5
    breaker_open_seconds: float = 5.0
    max_inflight_per_upstream: int = 512
    max_upload_body: int = 10 * 1024 * 1024 + 64 * 1024
    # Upstream base URLs; default to the local ports of CONTRACT §1.
    upstreams: dict[str, str] = Field(default_factory=dict)

    def upstream_urls(self) -> dict[str, str]:
        return {name: self.upstreams.get(name) or self.service_url(name) for name in SERVICE_NAMES}
