from __future__ import annotations

from typing import ClassVar

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from services.common.config import CommonSettings


class IdentitySettings(CommonSettings):
    service_name: ClassVar[str] = "identity"
    model_config = SettingsConfigDict(env_prefix="IDENTITY_", extra="ignore", populate_by_name=True)

    # PEM of Ed25519 private keys, newest first, separated by blank lines; generated into the
    # data dir on first start when unset (development only).
    signing_keys: str | None = None
    access_token_ttl: int = 900
    refresh_token_ttl: int = 30 * 24 * 3600

    sms_test_codes: str | None = Field(None, validation_alias="SMS_TEST_CODES")
    sms_code_ttl: int = 300
    sms_resend_interval: int = 60
    sms_max_attempts: int = 5
    sms_per_ip_per_hour: int = 20

    password_max_failures: int = 10
    password_failure_window: int = 15 * 60

    wechat_appid: str | None = Field(None, validation_alias="WECHAT_APPID")
    wechat_secret: str | None = Field(None, validation_alias="WECHAT_SECRET")
    wechat_api_base: str = Field("https://api.weixin.qq.com", validation_alias="WECHAT_API_BASE")
    wechat_timeout: float = 3.0
    # Subscribe-message template per notification kind, JSON {"ticket_reply": "<template id>", ...}.
    wechat_template_ids: dict[str, str] = Field(default_factory=dict, validation_alias="WECHAT_TEMPLATE_IDS")

    # Seconds between outbox delivery passes; 0 disables the background relay (tests drive it).
    outbox_interval: float = 1.0

    bootstrap_admin_username: str | None = Field(None, validation_alias="BOOTSTRAP_ADMIN_USERNAME")
    bootstrap_admin_password: str | None = Field(None, validation_alias="BOOTSTRAP_ADMIN_PASSWORD")

    @model_validator(mode="after")
    def _production_rules(self) -> IdentitySettings:
        if self.is_production:
            if self.sms_test_codes:
                raise ValueError("SMS_TEST_CODES is refused when SMARTUNION_ENV=production")
            if not self.signing_keys:
                raise ValueError("production requires IDENTITY_SIGNING_KEYS")
        return self

    def test_codes(self) -> dict[str, str]:
        if not self.sms_test_codes:
            return {}
        pairs = (item.split(":", 1) for item in self.sms_test_codes.split(",") if ":" in item)
        return {phone.strip(): code.strip() for phone, code in pairs}
