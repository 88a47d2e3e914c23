# Smart Union — the two commands that matter are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
export PYTHONPATH := $(CURDIR)
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)

.PHONY: run test install migrate lint typecheck importlint fmt bench backup restore clean security-report fuzz replicas

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(UV): | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check uv==0.13.8

# Installs exactly the locked versions (uv.lock); re-runs when the lock changes.
$(VENV)/.installed: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --inexact --quiet
	touch $@

install: $(VENV)/.installed

migrate: install
	$(BIN)/python -m scripts.migrate

run: install
	$(BIN)/python -m scripts.run_all

test: install
	$(BIN)/lint-imports --no-cache
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest -n 2 --dist loadfile

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: install
	$(BIN)/mypy

importlint: install
	$(BIN)/lint-imports

# OWASP API Top 10 table for the README / docs/security.md (runs tests/security).
security-report: install
	$(BIN)/python -m scripts.security_report -n 2 --dist loadfile

# The long schemathesis run (make test runs a bounded one).
fuzz: install
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-60} $(BIN)/pytest tests/security/test_fuzz.py -p no:cacheprovider -q

bench: install
	$(BIN)/python -m bench.run $(BENCH_ARGS)

backup: install
	$(BIN)/python -m scripts.backup backup --data-dir $${SMARTUNION_DATA_DIR:-.data}

restore: install
	$(BIN)/python -m scripts.backup restore --data-dir $${SMARTUNION_DATA_DIR:-.data} --archive "$(BACKUP)"

# Two complete sets of processes (A and B) on one PostgreSQL and Redis, as replicas behave
# (DATABASE_URL / REDIS_URL default to this machine's); prints both gateways. Ctrl-C stops.
replicas: install
	$(BIN)/python -m scripts.replicas

clean:
	rm -rf $(VENV) .data
