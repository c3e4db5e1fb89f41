"""quality.md R11, as an operator meets it: every process started with ENVIRONMENT=production and
a development default exits non-zero within 10 s, on one line naming the variable. The processes
are the real console script, started as the deployment starts them."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from typing import Any

import pytest

from relivchats.settings import DEV_CONTENT_KEY, DEV_JWT_SECRET, DEV_SANDBOX_WEBHOOK_SECRET
from tests.unit.test_production_rules import SAFE_PRODUCTION

PROCESSES = ("api", "projector", "worker", "indexer", "beat", "migrate", "run")
DEADLINE_S = 10.0
DEVELOPMENT_DEFAULTS: dict[str, dict[str, str | None]] = {
    "JWT_SECRET": {"JWT_SECRET": DEV_JWT_SECRET},
    "JWT_SECRET ": {"JWT_SECRET": "a-16-byte-secret"},  # too short: also JWT_SECRET
    "CONTENT_KEY": {"CONTENT_KEY": DEV_CONTENT_KEY},
    "SANDBOX_WEBHOOK_SECRET": {"SANDBOX_WEBHOOK_SECRET": DEV_SANDBOX_WEBHOOK_SECRET},
    "STRIPE_SECRET_KEY": {"STRIPE_SECRET_KEY": None},  # the sandbox would sell coins
    "LLM_FAULTS_FILE": {"LLM_FAULTS_FILE": "faults.json"},
    "JWT_ISSUER": {"JWT_ISSUER": None},
}


def production_env(**changes: str | None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not _is_setting(key)}
    env.update({name.upper(): str(value) for name, value in SAFE_PRODUCTION.items()})
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def _is_setting(name: str) -> bool:
    from relivchats.settings import Settings

    return name.lower() in Settings.model_fields


def start(command: str, env: dict[str, str], *arguments: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "relivchats", command, *arguments],
        env=env,
        cwd=tempfile.gettempdir(),  # no `.env` file
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def outcome(process: subprocess.Popen[str], started: float) -> tuple[int, float, list[str]]:
    try:
        _, err = process.communicate(timeout=DEADLINE_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail(f"{process.args} still running after {DEADLINE_S} s")
    return process.returncode, time.monotonic() - started, err.splitlines()


def all_refused(runs: dict[Any, subprocess.Popen[str]], started: float) -> dict[Any, Any]:
    return {key: outcome(process, started) for key, process in runs.items()}


def test_every_process_refuses_the_development_jwt_secret_within_10_s() -> None:
    started = time.monotonic()
    env = production_env(JWT_SECRET=DEV_JWT_SECRET)
    runs = {command: start(command, env) for command in PROCESSES}  # at once: 2 cores, 7 runs

    for command, (status, seconds, lines) in all_refused(runs, started).items():
        assert status != 0, command
        assert seconds < DEADLINE_S, command
        assert len(lines) == 1 and "JWT_SECRET" in lines[0], (command, lines)


@pytest.mark.parametrize("variable", DEVELOPMENT_DEFAULTS)
def test_the_api_refuses_each_development_default_naming_it(variable: str) -> None:
    started = time.monotonic()
    status, seconds, lines = outcome(
        start("api", production_env(**DEVELOPMENT_DEFAULTS[variable])), started
    )
    assert status != 0 and seconds < DEADLINE_S
    assert len(lines) == 1 and variable.strip() in lines[0], lines


def test_the_local_token_command_refuses_in_production() -> None:
    status, _, lines = outcome(
        start("token", production_env(), "--sub", "attacker"), time.monotonic()
    )
    assert status != 0
    assert "refused in production" in lines[-1]


def test_a_safe_production_configuration_passes_check_config() -> None:
    process = start("check-config", production_env())
    status, _, _ = outcome(process, time.monotonic())
    assert status == 0
