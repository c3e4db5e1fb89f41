"""`relivchats check-config`: every setting as this process sees it, secrets masked, then the
production rules (relivchats/production.py).

With `ENVIRONMENT=production` it exits 1 when a process would refuse to start; otherwise it
lists what production would refuse, for information, and exits 0.
"""

from __future__ import annotations

import argparse
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import SecretStr

from relivchats.production import production_problems
from relivchats.settings import Settings, get_settings

MASK = "********"
UNSAFE = 1


def register(subcommands: Any) -> None:
    check = subcommands.add_parser(
        "check-config", help="print the settings (secrets masked) and the production verdict"
    )
    check.set_defaults(handler=check_config)


def check_config(_: argparse.Namespace) -> int:
    settings = get_settings()
    for line in setting_lines(settings):
        print(line)
    print()
    for line in _deployment_notes(settings):
        print(line)
    production = settings.environment == "production"
    problems = production_problems(settings.model_copy(update={"environment": "production"}))
    if not problems:
        print("production rules: nothing to refuse")
        return 0
    heading = "refusing to start:" if production else "production would refuse (not enforced):"
    print(heading)
    for problem in problems:
        print(f"  - {problem}")
    return UNSAFE if production else 0


def setting_lines(settings: Settings) -> list[str]:
    """`NAME = value` for every setting, secrets masked, defaults marked."""
    width = max(len(name) for name in Settings.model_fields)
    return [
        f"{name.upper():<{width}} = {shown(getattr(settings, name))}"
        + ("" if name in settings.model_fields_set else "  (default)")
        for name in Settings.model_fields
    ]


def shown(value: object) -> str:
    if value is None:
        return "(unset)"
    if isinstance(value, SecretStr):
        return f"{MASK} ({len(value.get_secret_value())} characters)"
    if isinstance(value, str) and "://" in value:
        return _without_password(value)
    return str(value)


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", f":{MASK}@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _deployment_notes(settings: Settings) -> list[str]:
    auditor = settings.auditor_claim_rule
    return [
        f"identity: {'RS256 via JWT_JWKS_URL' if settings.jwt_jwks_url else 'HS256 (JWT_SECRET)'}",
        "auditors: "
        + (f"tokens with {auditor[0]} = {auditor[1]!r}" if auditor else "nobody (no claim)"),
        f"payments: razorpay {_provider(settings.razorpay_is_real)},"
        f" stripe {_provider(settings.stripe_is_real)}",
        "insights: "
        + ("Gemini" if settings.gemini_api_key else "the offline writer")
        + ("" if settings.insights_on_sale else " -> unlocks answer 503 insights_unavailable"),
    ]


def _provider(real: bool) -> str:
    return "real API" if real else "sandbox"
