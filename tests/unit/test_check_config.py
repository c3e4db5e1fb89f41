"""`relivchats check-config`: every setting, secrets masked; non-zero exactly when production would
refuse to start; on docker-compose.yml with no secrets given it names every missing one. Also
checks that the compose file keeps its promises (required secrets, production, health checks,
restart policies, migrations first, Redis persisted)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from relivchats.cli.main import main
from relivchats.settings import Settings, get_settings
from tests.unit.test_production_rules import SAFE_PRODUCTION

COMPOSE = Path(__file__).parents[2] / "docker-compose.yml"
REQUIRED = re.compile(r"\$\{(\w+):\?[^}]*\}")
DEFAULTED = re.compile(r"\$\{(\w+):-([^}]*)\}")
# What the app reads as a secret or as the identity of its signers: check-config must name each
# one compose requires when it is missing. (DATABASE_URL, REDIS_URL and JWT_AUDIENCE are required
# through compose variables and are not secrets of their own.)
NAMED_WHEN_MISSING = {
    "JWT_JWKS_URL",
    "JWT_ISSUER",
    "AUDITOR_CLAIM",
    "AUDITOR_CLAIM_VALUE",
    "CONTENT_KEY",
    "SANDBOX_WEBHOOK_SECRET",
    "RAZORPAY_KEY_ID",
    "RAZORPAY_KEY_SECRET",
    "RAZORPAY_WEBHOOK_SECRET",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "GEMINI_API_KEY",
    "QDRANT_API_KEY",
}


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """A process environment holding only what the test sets; settings read afresh."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(Path(__file__).parent)  # no `.env` file here
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def check_config(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], capsys: Any) -> tuple:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    status = main(["check-config"])
    return status, capsys.readouterr().out


def as_env(settings: dict[str, Any]) -> dict[str, str]:
    return {name.upper(): str(value) for name, value in settings.items()}


def test_secrets_are_masked_and_a_safe_production_passes(environment, capsys) -> None:
    status, out = check_config(environment, as_env(SAFE_PRODUCTION), capsys)

    assert status == 0
    assert "production rules: nothing to refuse" in out
    for name in ("jwt_secret", "content_key", "sandbox_webhook_secret", "stripe_secret_key"):
        assert SAFE_PRODUCTION[name] not in out
        assert re.search(rf"^{name.upper()} +=\s+\*{{8}}", out, re.MULTILINE)
    assert re.search(r"^RAZORPAY_KEY_ID +=\s+rzp_live_key$", out, re.MULTILINE)  # not a secret


def test_passwords_inside_urls_are_masked(environment, capsys) -> None:
    url = "postgresql://relivchats:hunter2-password@db:5432/relivchats"
    _, out = check_config(environment, {"DATABASE_URL": url}, capsys)
    assert "hunter2-password" not in out
    assert "postgresql://relivchats:********@db:5432/relivchats" in out


def test_production_with_a_development_default_exits_non_zero(environment, capsys) -> None:
    env = as_env({**SAFE_PRODUCTION, "jwt_secret": "sixteen-byte-key"})
    status, out = check_config(environment, env, capsys)
    assert status != 0
    assert "refusing to start:\n  - JWT_SECRET is shorter than 32 bytes" in out


def test_development_lists_what_production_would_refuse_and_exits_zero(environment, capsys) -> None:
    status, out = check_config(environment, {}, capsys)
    assert status == 0
    assert "production would refuse (not enforced):" in out
    assert "CONTENT_KEY is the all-zero development key" in out


def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return document


def app_environment() -> dict[str, str]:
    environment: dict[str, str] = compose()["x-app"]["environment"]
    return environment


def what_compose_would_pass(with_secrets: dict[str, str]) -> dict[str, str]:
    """The app environment with only `with_secrets` given: entries needing a missing required
    variable are left out (the process falls back on its defaults), `${X:-d}` becomes d."""
    env = {}
    for name, value in app_environment().items():
        value = str(value)
        if any(var not in with_secrets for var in REQUIRED.findall(value)):
            continue
        value = REQUIRED.sub(lambda match: with_secrets[match[1]], value)
        env[name] = DEFAULTED.sub(lambda match: match[2], value)
    return env


def test_on_the_compose_defaults_it_names_every_missing_secret(environment, capsys) -> None:
    required = {name for name, value in app_environment().items() if REQUIRED.search(str(value))}
    assert required >= NAMED_WHEN_MISSING

    status, out = check_config(environment, what_compose_would_pass({}), capsys)

    assert status != 0
    verdict = out.split("\n\n", 1)[1]  # after the settings table
    for name in NAMED_WHEN_MISSING:
        assert name in verdict, f"{name} is missing and check-config does not say so"


def test_compose_runs_production_with_health_checks_restarts_and_migrations_first() -> None:
    services = compose()["services"]
    assert app_environment()["ENVIRONMENT"] == "production"
    for name, service in services.items():
        assert service.get("restart"), f"{name} has no restart policy"
        if name != "migrate":  # one-shot: its health is its exit status
            assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
    for name in ("api", "projector", "worker", "indexer", "beat"):
        waits_for = services[name]["depends_on"]["migrate"]["condition"]
        assert waits_for == "service_completed_successfully"
    redis = services["redis"]
    assert "--appendonly" in redis["command"] and any(
        volume.endswith(":/data") for volume in redis["volumes"]
    )


def test_every_compose_secret_is_documented_in_env_example() -> None:
    documented = set(
        re.findall(r"^#?\s*(\w+)=", (COMPOSE.parent / ".env.example").read_text(), re.M)
    )
    required = set(REQUIRED.findall(yaml.safe_dump(compose(), width=1000)))
    assert len(required) >= len(NAMED_WHEN_MISSING)
    assert required <= documented, required - documented


def test_the_image_runs_as_a_user_with_cpu_only_torch_and_no_secret() -> None:
    dockerfile = (COMPOSE.parent / "Dockerfile").read_text()
    users = re.findall(r"^USER (\S+)", dockerfile, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert "--index-url https://download.pytorch.org/whl/cpu torch==2.13.0" in dockerfile
    setting_names = {name.upper() for name in Settings.model_fields}
    assigned = set(re.findall(r"\b(\w+)=", " ".join(re.findall(r"^ENV (.*)$", dockerfile, re.M))))
    assert assigned & setting_names <= {"DATA_DIR"}  # no key, secret or URL baked in
