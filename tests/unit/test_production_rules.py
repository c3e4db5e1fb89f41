"""quality.md R11: production refuses every development secret or default, naming the variable;
the auditor is only whoever carries the claim the operator configured; unlocks are not sold on
the offline writer in production unless the operator opted in."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from relivchats.adapters.identity import principal_from
from relivchats.production import (
    UnsafeProductionConfig,
    production_problems,
    refuse_unsafe_production,
)
from relivchats.settings import (
    DEV_AUDITOR_CLAIM,
    DEV_CONTENT_KEY,
    DEV_JWT_SECRET,
    DEV_SANDBOX_WEBHOOK_SECRET,
    Settings,
)

SAFE_PRODUCTION: dict[str, Any] = {
    "environment": "production",
    "jwt_secret": "s" * 32,
    "jwt_issuer": "https://id.example.com/",
    "content_key": "ab" * 32,
    "sandbox_webhook_secret": "w" * 32,
    "razorpay_key_id": "rzp_live_key",
    "razorpay_key_secret": "razorpay-key-secret",
    "razorpay_webhook_secret": "razorpay-webhook-secret",
    "stripe_secret_key": "sk_live_key",
    "stripe_webhook_secret": "whsec_live",
    "gemini_api_key": "gemini-key",
}


def production(**overrides: Any) -> Settings:
    return Settings(**{**SAFE_PRODUCTION, **overrides})


def test_a_fully_configured_production_has_nothing_to_refuse() -> None:
    assert production_problems(production()) == []
    refuse_unsafe_production(production())


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        ({"jwt_secret": DEV_JWT_SECRET}, "JWT_SECRET"),
        ({"jwt_secret": "s" * 16}, "JWT_SECRET"),
        ({"jwt_secret": None}, "JWT_SECRET"),
        ({"jwt_issuer": "relivchats-local"}, "JWT_ISSUER"),
        ({"content_key": DEV_CONTENT_KEY}, "CONTENT_KEY"),
        ({"content_key": "zz" * 32}, "CONTENT_KEY"),
        ({"content_key": "ab" * 16}, "CONTENT_KEY"),
        ({"sandbox_webhook_secret": DEV_SANDBOX_WEBHOOK_SECRET}, "SANDBOX_WEBHOOK_SECRET"),
        (
            {"identity_admin_url": "http://idp.example.com", "identity_admin_key": "k"},
            "IDENTITY_ADMIN_URL",
        ),
        ({"identity_admin_url": "https://idp.example.com/admin"}, "IDENTITY_ADMIN_KEY"),
        ({"identity_admin_key": "admin-key"}, "IDENTITY_ADMIN_URL"),
        ({"sandbox_webhook_secret": "short"}, "SANDBOX_WEBHOOK_SECRET"),
        ({"razorpay_webhook_secret": None}, "RAZORPAY_WEBHOOK_SECRET"),
        ({"stripe_secret_key": None}, "STRIPE_SECRET_KEY"),
        ({"llm_faults_file": "faults.json"}, "LLM_FAULTS_FILE"),
        ({"auditor_claim": "https://relivchats.app/auditor"}, "AUDITOR_CLAIM_VALUE"),
        ({"jwt_jwks_url": "http://id.example.com/jwks"}, "JWT_JWKS_URL"),
        ({"stripe_base_url": "http://stripe.example.com"}, "STRIPE_BASE_URL"),
        ({"gemini_base_url": "http://gemini.example.com"}, "GEMINI_BASE_URL"),
    ],
)
def test_production_refuses_a_development_default_naming_the_variable(
    overrides: dict[str, Any], variable: str
) -> None:
    [problem] = production_problems(production(**overrides))
    assert variable in problem
    with pytest.raises(UnsafeProductionConfig, match=variable):
        refuse_unsafe_production(production(**overrides))


def test_each_problem_is_one_line() -> None:
    everything_default = Settings(environment="production")
    with pytest.raises(UnsafeProductionConfig) as refused:
        refuse_unsafe_production(everything_default)
    lines = str(refused.value).splitlines()
    assert len(lines) == len(production_problems(everything_default)) >= 6
    assert all(line.startswith("refusing to start in production: ") for line in lines)


def test_loopback_addresses_may_use_plain_http() -> None:
    local = production(
        jwt_jwks_url="http://127.0.0.1:9000/jwks", gemini_base_url="http://localhost:1"
    )
    assert production_problems(local) == []


def test_rs256_makes_the_shared_secret_irrelevant() -> None:
    settings = production(jwt_jwks_url="https://id.example.com/jwks", jwt_secret=DEV_JWT_SECRET)
    assert production_problems(settings) == []


def test_the_sandbox_needs_an_explicit_opt_in_and_still_a_private_secret() -> None:
    sandboxed = {"razorpay_key_id": None, "stripe_secret_key": None}
    assert len(production_problems(production(**sandboxed))) == 2
    assert production_problems(production(**sandboxed, payments_sandbox_in_production=True)) == []
    [problem] = production_problems(
        production(
            **sandboxed,
            payments_sandbox_in_production=True,
            sandbox_webhook_secret=DEV_SANDBOX_WEBHOOK_SECRET,
        )
    )
    assert "SANDBOX_WEBHOOK_SECRET" in problem


def test_development_and_test_runs_keep_their_defaults() -> None:
    assert production_problems(Settings()) == []
    assert production_problems(Settings(environment="test")) == []


def test_an_unknown_environment_is_refused_rather_than_taken_for_development() -> None:
    with pytest.raises(ValidationError):
        Settings(environment="prod")


# --- who is an auditor ------------------------------------------------------------------------


def claims(**extra: Any) -> dict[str, Any]:
    return {"sub": "someone", **extra}


def test_a_generic_roles_claim_never_makes_an_auditor() -> None:
    rule = ("https://relivchats.app/auditor", "ledger")
    assert not principal_from(claims(roles=["auditor"]), rule).is_auditor
    assert not principal_from(claims(role="auditor"), rule).is_auditor
    assert not principal_from(claims(roles=["auditor"]), DEV_AUDITOR_CLAIM).is_auditor


def test_the_configured_claim_makes_an_auditor_with_its_value_only() -> None:
    rule = ("https://relivchats.app/auditor", "ledger")
    assert principal_from(claims(**{rule[0]: "ledger"}), rule).is_auditor
    assert principal_from(claims(**{rule[0]: ["staff", "ledger"]}), rule).is_auditor
    assert not principal_from(claims(**{rule[0]: "staff"}), rule).is_auditor
    assert not principal_from(claims(**{rule[0]: "ledger"}), None).is_auditor


def test_production_without_a_configured_claim_has_no_auditor() -> None:
    assert production().auditor_claim_rule is None
    configured = production(auditor_claim="groups", auditor_claim_value="relivchats-auditors")
    assert configured.auditor_claim_rule == ("groups", "relivchats-auditors")
    assert Settings().auditor_claim_rule == DEV_AUDITOR_CLAIM


# --- offline insights -------------------------------------------------------------------------


def test_production_sells_insights_only_with_gemini_or_an_explicit_opt_in() -> None:
    assert production().insights_on_sale
    assert not production(gemini_api_key=None).insights_on_sale
    assert production(gemini_api_key=None, offline_insights_in_production=True).insights_on_sale
    assert Settings().insights_on_sale  # laptops run the offline writer


def test_an_https_identity_admin_api_with_its_key_passes() -> None:
    configured = production(
        identity_admin_url="https://idp.example.com/admin", identity_admin_key="admin-key"
    )
    assert production_problems(configured) == []
