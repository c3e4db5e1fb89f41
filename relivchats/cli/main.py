"""The `relivchats` console script: one entry point for every process and operator command.

Each module of this package adds its subcommands; `main` parses and dispatches. Before anything
else (and before the command modules' heavy imports, so a refusal takes well under a second) it
reads the settings and, in production, refuses unsafe ones (relivchats/production.py) with one
line per problem. Only the commands that report on the configuration are let through.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from relivchats.adapters.metrics_exporter import use_multiprocess_files
from relivchats.logs import configure_logging
from relivchats.production import UnsafeProductionConfig, refuse_unsafe_production
from relivchats.settings import Settings, get_settings

COMMAND_MODULES = (
    "processes",
    "workers",
    "local",
    "projections",
    "tokens",
    "payments",
    "audit",
    "users",
    "demo",
    "config",
    "flags",
)
REPORTING = {"check-config", "-h", "--help"}
MULTIPROCESS_METRICS = {"worker", "indexer"}  # prefork: adapters/metrics_exporter.py
EX_CONFIG = 78  # sysexits.h: configuration error


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="relivchats", description=__doc__)
    subcommands = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(f"relivchats.cli.{name}").register(subcommands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    try:
        settings = _checked_settings(reports=not words or words[0] in REPORTING)
    except (ValidationError, UnsafeProductionConfig) as refused:
        print(_one_line_per_problem(refused), file=sys.stderr)
        return EX_CONFIG
    if words and words[0] in MULTIPROCESS_METRICS:  # before anything imports prometheus-client
        use_multiprocess_files(settings.data_dir, words[0])
    arguments = build_parser().parse_args(words)
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
