"""Settings shared by every service; each service subclasses with its own env prefix.

Global variables of CONTRACT §1 (DATABASE_URL, REDIS_URL, SMARTUNION_DATA_DIR, SMARTUNION_ENV)
are read without prefix; a service-specific override such as IDENTITY_DATABASE_URL wins.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import ClassVar, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SERVICE_NAMES = ("identity", "membership", "benefits", "legal_aid", "jobs")
SERVICE_PORT_OFFSETS = {name: i + 1 for i, name in enumerate(SERVICE_NAMES)}


def _global(name: str, prefixed: str) -> AliasChoices:
    return AliasChoices(prefixed, name)


class CommonSettings(BaseSettings):
    """Infrastructure settings every service needs."""

    service_name: ClassVar[str] = "common"
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    env: str = Field("development", validation_alias="SMARTUNION_ENV")
    data_dir: Path = Field(Path(".data"), validation_alias="SMARTUNION_DATA_DIR")
    services_port_base: int = Field(8100, validation_alias="SERVICES_PORT_BASE")
    # Service-specific URL (e.g. IDENTITY_DATABASE_URL) wins over the global server URL.
    database_url: str | None = None
    global_database_url: str | None = Field(None, validation_alias="DATABASE_URL")
    redis_url: str | None = Field(None, validation_alias="REDIS_URL")
    # Prefix of every Redis key and stream this deployment uses; two deployments (or two test
    # stacks) sharing one Redis must differ here, or they would consume each other's events.
    redis_namespace: str = Field("su", validation_alias="SMARTUNION_REDIS_NAMESPACE",
                                 pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    # How outbox events travel: "http" pushes them to each subscriber's /internal/events; "redis"
    # appends them to a Redis Stream per producer, read by each subscriber's consumer group;
    # "auto" is "redis" when REDIS_URL is set (production), else "http" (the laptop default).
    events_transport: Literal["auto", "http", "redis"] = Field("auto", validation_alias="SMARTUNION_EVENTS_TRANSPORT")
    # Entries kept per producer stream (approximately): size it for the longest subscriber outage
    # to survive — an unread entry trimmed away is an event lost for that subscriber.
    events_stream_maxlen: int = Field(1_000_000, ge=1000, validation_alias="SMARTUNION_EVENTS_STREAM_MAXLEN")
    # Delivered outbox rows are kept this long (for audits and replays), then pruned.
    outbox_retention_days: float = Field(7.0, ge=0, validation_alias="SMARTUNION_OUTBOX_RETENTION_DAYS")
    # Shared secret with which services sign short-lived service-to-service tokens.
    internal_secret: str | None = Field(None, validation_alias="SMARTUNION_INTERNAL_SECRET")
    # Key material for personal data at rest: "kid:base64key,kid:base64key"; the first encrypts.
    pii_keys: str | None = Field(None, validation_alias="SMARTUNION_PII_KEYS")
    # Where the other services are, as JSON {"identity": "http://identity:8101", ...}; unset
    # means the local ports of CONTRACT §1 (SERVICES_PORT_BASE + 1 … + 5).
    service_urls: dict[str, str] = Field(default_factory=dict, validation_alias="SMARTUNION_SERVICE_URLS")
    rate_limit_scale: float = Field(1.0, validation_alias="RATE_LIMIT_SCALE")
    log_level: str = Field("INFO", validation_alias="LOG_LEVEL")
    max_json_body: int = 1024 * 1024

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @model_validator(mode="after")
    def _refuse_defaults_in_production(self) -> CommonSettings:
        if self.is_production:
            missing = [n for n, v in (("SMARTUNION_INTERNAL_SECRET", self.internal_secret),
                                      ("SMARTUNION_PII_KEYS", self.pii_keys)) if not v]
            if missing:
                raise ValueError(f"production requires explicit secrets: {', '.join(missing)}")
            if self.internal_secret and len(self.internal_secret) < 32:
                raise ValueError("SMARTUNION_INTERNAL_SECRET must be at least 32 characters")
        return self

    # -- derived locations -------------------------------------------------------------------
    def service_url(self, name: str) -> str:
        if name in self.service_urls:
            return self.service_urls[name].rstrip("/")
        port = self.services_port_base + SERVICE_PORT_OFFSETS[name]
        return f"http://127.0.0.1:{port}"

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        if self.global_database_url:
            return database_url_for_service(self.global_database_url, self.service_name)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite+aiosqlite:///{(self.data_dir / f'{self.service_name}.db').resolve()}"

    def key_file(self, name: str) -> Path:
        path = self.data_dir / "keys" / name
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        return path

    def events_via_redis(self) -> bool:
        return self.events_transport == "redis" or (self.events_transport == "auto" and bool(self.redis_url))

    def resolved_internal_secret(self) -> str:
        return self.internal_secret or read_or_create_secret(self.key_file("internal.secret"))


def database_url_for_service(server_url: str, service: str) -> str:
    """postgresql://host/db → postgresql+asyncpg://host/<db or smartunion>_<service>."""
    parts = urlsplit(server_url)
    base = parts.path.strip("/") or "smartunion"
    scheme = "postgresql+asyncpg" if parts.scheme in ("postgres", "postgresql") else parts.scheme
    return urlunsplit((scheme, parts.netloc, f"/{base}_{service}", parts.query, ""))


def read_or_create_secret(path: Path, nbytes: int = 32) -> str:
    """Development convenience: a random secret generated once into the data dir."""
    if path.exists():
        return path.read_text().strip()
    value = secrets.token_urlsafe(nbytes)
    path.write_text(value)
    path.chmod(0o600)
    return value
