"""The `relivchats` console script: one entry point for every process and operator command.

Each module of this package adds its subcommands; `main` parses, refuses to go on with settings
that cannot be read or (in production) are unsafe, and dispatches. A command that reports on the
configuration instead (`check-config`) sets `reports_configuration` and is let through.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from relivchats.cli import (
    audit,
    config,
    demo,
    local,
    payments,
    processes,
    projections,
    tokens,
    workers,
)
from relivchats.logs import configure_logging
from relivchats.production import UnsafeProductionConfig, refuse_unsafe_production
from relivchats.settings import Settings, get_settings

COMMAND_MODULES = (processes, workers, local, projections, tokens, payments, audit, demo, config)
EX_CONFIG = 78  # sysexits.h: configuration error


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="relivchats", description=__doc__)
    subcommands = parser.add_subparsers(dest="command", required=True)
    for module in COMMAND_MODULES:
        module.register(subcommands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    try:
        settings = _checked_settings(reports=getattr(arguments, "reports_configuration", False))
    except (ValidationError, UnsafeProductionConfig) as refused:
        print(_one_line_per_problem(refused), file=sys.stderr)
        return EX_CONFIG
    configure_logging(settings.log_level)
    result = arguments.handler(arguments)
    return int(result or 0)


def _checked_settings(*, reports: bool) -> Settings:
    settings = get_settings()
    if not reports:
        refuse_unsafe_production(settings)
    return settings


def _one_line_per_problem(refused: Exception) -> str:
    if isinstance(refused, ValidationError):  # an unreadable value: name it, never echo it
        return "\n".join(
            f"invalid setting {'.'.join(map(str, error['loc'])).upper()}: {error['msg']}"
            for error in refused.errors()
        )
    return str(refused)


if __name__ == "__main__":
    sys.exit(main())
