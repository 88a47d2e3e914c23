"""docker-compose.yml checked against the project (no Docker engine runs here): every service is
present with the right factory, only the gateway is published, every variable the compose file
uses is documented in .env.example, and each service's settings validate in production mode with
exactly the environment compose gives it."""

from __future__ import annotations

import importlib
import os
import re
from pathlib import Path

import pytest
import yaml

from services.common.config import SERVICE_NAMES, SERVICE_PORT_OFFSETS

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
ENV_EXAMPLE = dict(
    line.split("=", 1) for line in (ROOT / ".env.example").read_text().splitlines()
    if line and not line.startswith("#")
)


def _environment(name: str) -> dict[str, str]:
    svc = COMPOSE["services"][name]
    env = {k: v.strip('"') for k, v in ENV_EXAMPLE.items()}  # env_file: .env
    env.update({k: str(v) for k, v in (svc.get("environment") or {}).items()})
    return {k: re.sub(r"\$\{(\w+)(:-[^}]*)?\}", lambda m: ENV_EXAMPLE.get(m.group(1), ""), v) for k, v in env.items()}


def test_every_service_and_the_infrastructure_is_there() -> None:
    assert set(COMPOSE["services"]) == {"postgres", "redis", "migrate", *SERVICE_NAMES, "gateway"}


@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_service_runs_its_own_factory_on_its_port(name: str) -> None:
    env = _environment(name)
    assert env["APP"] == f"services.{name}.main:create_app"
    importlib.import_module(f"services.{name}.main").create_app
    assert int(env["PORT"]) == 8100 + SERVICE_PORT_OFFSETS[name]
    assert f'"{name}":"http://{name}:{env["PORT"]}"' in env["SMARTUNION_SERVICE_URLS"]
    assert env[f"{name.upper()}_DATABASE_URL"].startswith(f"postgresql+asyncpg://{name}:")
    assert "ports" not in COMPOSE["services"][name], "only the gateway is published"
    assert COMPOSE["services"][name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_only_the_gateway_is_published() -> None:
    published = [n for n, s in COMPOSE["services"].items() if s.get("ports")]
    assert published == ["gateway"]
    assert all(COMPOSE["services"]["gateway"]["depends_on"][n]["condition"] == "service_healthy" for n in SERVICE_NAMES)


def test_every_compose_variable_is_documented() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    used = set(re.findall(r"\$\{(\w+)", text))
    assert used <= set(ENV_EXAMPLE), used - set(ENV_EXAMPLE)


def test_named_volumes_for_data_and_attachments() -> None:
    assert {"pg-data", "redis-data", "app-data", "attachments"} <= set(COMPOSE["volumes"])
    assert "attachments:/data/attachments" in COMPOSE["services"]["legal_aid"]["volumes"]


@pytest.mark.parametrize("name", [*SERVICE_NAMES, "gateway"])
def test_settings_validate_in_production_with_compose_env(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith(("SMARTUNION_", "DATABASE_URL", "REDIS_URL", "SMS_TEST_CODES", "IDENTITY_")):
            monkeypatch.delenv(key, raising=False)
    for key, value in _environment(name).items():
        monkeypatch.setenv(key, value)
    module = importlib.import_module("gateway.config" if name == "gateway" else f"services.{name}.config")
    cls = next(v for k, v in vars(module).items() if k.endswith("Settings") and k not in ("CommonSettings",))
    settings = cls()
    assert settings.is_production
    assert settings.redis_url == f"redis://:{ENV_EXAMPLE['REDIS_PASSWORD']}@redis:6379/0"
    if name != "gateway":
        assert settings.events_via_redis()
    if name != "gateway":
        assert settings.resolved_database_url().startswith("postgresql+asyncpg://")


def test_production_refuses_test_codes_and_missing_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    from services.identity.config import IdentitySettings

    monkeypatch.setenv("SMARTUNION_ENV", "production")
    with pytest.raises(ValueError):
        IdentitySettings()
    for key, value in _environment("identity").items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("SMS_TEST_CODES", "13800000000:123456")
    with pytest.raises(ValueError, match="SMS_TEST_CODES"):
        IdentitySettings()


def test_redis_persists_and_requires_a_password() -> None:
    """Event streams, nonces and idempotency keys live in Redis: kept across restarts (AOF), and
    only services holding the password may write them (a stream entry speaks for a service)."""
    redis = COMPOSE["services"]["redis"]
    command = " ".join(redis["command"])
    # $$ is compose's escape: the shell in the container expands the password, compose does not.
    assert "--appendonly yes" in command and '--requirepass "$$REDIS_PASSWORD"' in command
    assert redis["environment"]["REDIS_PASSWORD"] == "${REDIS_PASSWORD}"
    assert "ports" not in redis  # never published on the host
    assert ENV_EXAMPLE["REDIS_PASSWORD"]
