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
    """What the settings add up to, naming the variable that changes each answer."""
    return [
        "identity: "
        + ("RS256 via JWT_JWKS_URL" if settings.jwt_jwks_url else "HS256 with JWT_SECRET"),
        f"auditors: {_auditors(settings)}",
        f"payments: razorpay {_provider(settings.razorpay_is_real)},"
        f" stripe {_provider(settings.stripe_is_real)}",
        f"insights: {_insights(settings)}",
        f"vector store: {_vector_store(settings)}",
    ]


def _auditors(settings: Settings) -> str:
    claim = settings.auditor_claim_rule
    if claim is None:
        return "nobody (AUDITOR_CLAIM and AUDITOR_CLAIM_VALUE are unset)"
    return f"tokens whose {claim[0]} claim holds {claim[1]!r}"


def _insights(settings: Settings) -> str:
    writer = "Gemini" if settings.gemini_api_key else "the offline writer (GEMINI_API_KEY unset)"
    if settings.insights_on_sale:
        return writer
    return f"{writer}: unlocks answer 503 insights_unavailable"


def _vector_store(settings: Settings) -> str:
    if not settings.qdrant_url:
        return "embedded under DATA_DIR (QDRANT_URL unset; one indexer process)"
    return f"Qdrant at {settings.qdrant_url}" + (
        "" if settings.qdrant_api_key else " without QDRANT_API_KEY"
    )


def _provider(real: bool) -> str:
    return "real API" if real else "sandbox"
