"""`relivchats token --sub ID`: mint a local HS256 token for trying the API."""

from __future__ import annotations

import argparse
from typing import Any

from relivchats.adapters.identity import mint_local_token
from relivchats.settings import get_settings


def register(subcommands: Any) -> None:
    token = subcommands.add_parser("token", help="print a local token (HS256, JWT_SECRET)")
    token.add_argument("--sub", required=True, help="the user's subject (identity provider id)")
    token.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds")
    token.add_argument("--role", action="append", default=[], help="e.g. auditor")
    token.add_argument("--email", default=None)
    token.set_defaults(handler=print_token)


def print_token(arguments: argparse.Namespace) -> int:
    settings = get_settings()
    if settings.jwt_secret is None:
        raise SystemExit("JWT_SECRET is not set: local tokens need the shared secret")
    print(
        mint_local_token(
            settings.jwt_secret.get_secret_value(),
            arguments.sub,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            ttl_s=arguments.ttl,
            roles=arguments.role,
            email=arguments.email,
        )
    )
    return 0
