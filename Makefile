# RelivChats: `make run` starts the platform, `make test` runs every check. See README.md.
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3

.PHONY: install run test lint typecheck unit services bench demo clean

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

services:
	scripts/ensure-services.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy relivchats

test: install services lint typecheck
	$(BIN)/pytest --cov --cov-report=term:skip-covered tests

unit: install
	$(BIN)/pytest tests/unit

bench: install services
	command -v wrk >/dev/null || apt-get install -y wrk || (apt-get update && apt-get install -y wrk)
	$(BIN)/python -m bench

clean:
	rm -rf .data .pytest_cache .mypy_cache .ruff_cache .coverage
