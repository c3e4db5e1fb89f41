# RelivChats: `make run` starts the platform, `make test` runs every check. See README.md.
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3
# What `make test` runs pytest on (CI's second step narrows it; see .ci/run).
TESTS ?= tests
# pytest runs under `tests.services`, which provides PostgreSQL and Redis: see README, Tests.
WITH_SERVICES := $(BIN)/python -m tests.services

.PHONY: install run test lint typecheck unit bench demo clean

$(BIN)/relivchats: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

install: $(BIN)/relivchats

run: install
	$(BIN)/relivchats run

demo: install  # against a running `make run`
	$(BIN)/relivchats demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy relivchats

test: install lint typecheck
	$(WITH_SERVICES) $(BIN)/pytest --cov --cov-report=term:skip-covered $(TESTS)

unit: install
	$(BIN)/pytest tests/unit

bench: install
	command -v wrk >/dev/null || apt-get install -y wrk || (apt-get update && apt-get install -y wrk)
	$(WITH_SERVICES) $(BIN)/python -m bench

clean:
	rm -rf .data .pytest_cache .mypy_cache .ruff_cache .coverage
