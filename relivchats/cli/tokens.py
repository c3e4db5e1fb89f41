"""`relivchats token --sub ID [--role auditor]`: mint a local HS256 token for trying the API.

`--role auditor` adds the auditor claim the API checks (AUDITOR_CLAIM = AUDITOR_CLAIM_VALUE, or
the local one). Refused in production: anyone holding the shared secret could sign in as anyone.
"""

from __future__ import annotations

import argparse
from typing import Any

from relivchats.adapters.identity import mint_local_token
from relivchats.settings import Settings, get_settings

ROLES = ("auditor",)


def register(subcommands: Any) -> None:
    token = subcommands.add_parser("token", help="print a local token (HS256, JWT_SECRET)")
    token.add_argument("--sub", required=True, help="the user's subject (identity provider id)")
    token.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds")
    token.add_argument("--role", action="append", default=[], choices=ROLES)
    token.add_argument("--email", default=None)
    token.set_defaults(handler=print_token)


def print_token(arguments: argparse.Namespace) -> int:
    settings = get_settings()
    if settings.environment == "production":
        raise SystemExit("relivchats token signs local HS256 tokens: refused in production")
    if settings.jwt_secret is None:
        raise SystemExit("JWT_SECRET is not set: local tokens need the shared secret")
    print(
        mint_local_token(
            settings.jwt_secret.get_secret_value(),
            arguments.sub,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            ttl_s=arguments.ttl,
            extra_claims=role_claims(settings, arguments.role),
            email=arguments.email,
        )
    )
    return 0


def role_claims(settings: Settings, roles: list[str]) -> dict[str, str]:
    """The claims that give a local token `roles` (only "auditor" exists)."""
    auditor = settings.auditor_claim_rule
    if "auditor" not in roles:
        return {}
    if auditor is None:
        raise SystemExit("no auditor claim: set AUDITOR_CLAIM and AUDITOR_CLAIM_VALUE")
    return {auditor[0]: auditor[1]}
