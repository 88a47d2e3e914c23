from __future__ import annotations

from typing import ClassVar

from pydantic import Field, model_validator
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
# GET /api/v1/health/{service} → that service's /healthz: a cheap public liveness probe through
# the whole proxy path (status pages, and the "hello route" of bench/).
HEALTH_PREFIX = "health"


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
    # Beyond this many requests in flight to one service, answer 503 at once instead of queueing
    # into timeouts (a service answers ~2-5k req/s: 128 in flight is already ~50 ms of queue).
    max_inflight_per_upstream: int = 128
    max_upload_body: int = 10 * 1024 * 1024 + 64 * 1024
    # Read timeout per public prefix (seconds); the rest get `read_timeout`. Uploads get
    # `upload_read_timeout`. A slow upstream answers 504 upstream_timeout within this budget.
    route_read_timeouts: dict[str, float] = Field(default_factory=lambda: {
        "auth": 5.0, "me": 5.0, "merchant": 5.0, "health": 2.0})

    # Rate limits: requests per window (seconds), GCRA with bursts up to the quota. Every quota is
    # multiplied by RATE_LIMIT_SCALE. See docs/gateway.md for why these numbers.
    rate_limit_ip: int = 1200
    rate_limit_account: int = 300
    rate_limit_merchant: int = 600
    rate_limit_auth_ip: int = 60
    rate_limit_window: int = 60
    # Peers whose X-Forwarded-For is believed (a load balancer in front of the gateway).
    trusted_proxies: list[str] = Field(default_factory=list)
    # Browser origins allowed to call the API (CORS), e.g. '["https://app.example.cn"]'; none by
    # default: the mobile app and the mini-program are not browsers and need none.
    cors_origins: list[str] = Field(default_factory=list)
    # /metrics answers callers on loopback that came through no proxy, or any caller that sends
    # `Authorization: Bearer <metrics_token>` (a Prometheus scraping from another host).
    metrics_token: str | None = None

    # Token check, rate limits, metrics and access log. Off only to measure their cost (bench/).
    middleware_enabled: bool = True
    docs_enabled: bool | None = None  # Swagger UI at /api/docs; default: on unless production
    openapi_ttl: float = 300.0

    @property
    def docs_on(self) -> bool:
        return self.docs_enabled if self.docs_enabled is not None else not self.is_production

    @model_validator(mode="after")
    def _middleware_only_off_outside_production(self) -> GatewaySettings:
        if self.is_production and not self.middleware_enabled:
            raise ValueError("GATEWAY_MIDDLEWARE_ENABLED=false is for benchmarks, never production")
        return self
    # Upstream base URLs; default to the local ports of CONTRACT §1.
    upstreams: dict[str, str] = Field(default_factory=dict)

    def upstream_urls(self) -> dict[str, str]:
        return {name: self.upstreams.get(name) or self.service_url(name) for name in SERVICE_NAMES}
