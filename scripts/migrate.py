"""Run every service's Alembic migrations to head (or one service's: `migrate.py identity`)."""

from __future__ import annotations

import importlib
import sys

from services.common.config import SERVICE_NAMES
from services.common.migrations import upgrade


def settings_for(service: str):  # type: ignore[no-untyped-def]
    module = importlib.import_module(f"services.{service}.config")
    cls = next(v for k, v in vars(module).items() if k.endswith("Settings") and k != "CommonSettings")
    return cls()


def main(argv: list[str]) -> None:
    for service in argv or SERVICE_NAMES:
        url = settings_for(service).resolved_database_url()
        upgrade(service, url)
        print(f"migrated {service}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
