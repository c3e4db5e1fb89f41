"""The `relivchats` console script: one entry point for every process and operator command.

Each module of this package adds its subcommands; `main` parses and dispatches.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from relivchats.cli import (
    audit,
    demo,
    local,
    payments,
    processes,
    projections,
    tokens,
    workers,
)
from relivchats.logs import configure_logging
from relivchats.settings import get_settings

COMMAND_MODULES = (processes, workers, local, projections, tokens, payments, audit, demo)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="relivchats", description=__doc__)
    subcommands = parser.add_subparsers(dest="command", required=True)
    for module in COMMAND_MODULES:
        module.register(subcommands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    configure_logging(get_settings().log_level)
    result = arguments.handler(arguments)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
