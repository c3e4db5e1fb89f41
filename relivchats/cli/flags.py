"""`relivchats flags set NAME on|off|PERCENT` and `relivchats flags list`: the kill switches.

A change takes effect without a restart: every API process re-reads the switches at most
`FEATURE_SWITCH_TTL_S` (2 s) after it. Every change is recorded with who made it (`--by`, else
the operating-system user) and when; `list` shows each switch and the latest changes.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import Any

import psycopg

from relivchats.adapters.switches import current_percentages, history, set_switch
from relivchats.domain import switches
from relivchats.domain.errors import DomainError
from relivchats.settings import get_settings


def register(subcommands: Any) -> None:
    group = subcommands.add_parser("flags", help="kill switches and gradual rollout")
    actions = group.add_subparsers(dest="action", required=True)
    setter = actions.add_parser("set", help="switch a feature on, off, or on for a share of users")
    setter.add_argument("name", help=f"one of: {', '.join(switches.SWITCHES)}")
    setter.add_argument("setting", help="on, off, or a percentage of users (0-100)")
    setter.add_argument("--by", default=None, help="who makes the change (default: your login)")
    setter.set_defaults(handler=run_set)
    lister = actions.add_parser("list", help="every switch's setting and the latest changes")
    lister.add_argument("--history", type=int, default=20, help="changes shown (default 20)")
    lister.set_defaults(handler=run_list)


def _operator() -> str:
    return os.environ.get("SUDO_USER") or getpass.getuser()


def run_set(arguments: argparse.Namespace) -> int:
    try:
        percent = switches.parse_setting(arguments.setting)
        with psycopg.connect(get_settings().database_url) as conn:
            change = set_switch(conn, arguments.name, percent, arguments.by or _operator())
    except DomainError as refused:
        print(refused.message, file=sys.stderr)
        return 2
    print(
        f"{change.name}: {switches.describe(change.old_percent)} -> "
        f"{switches.describe(change.new_percent)} (by {change.changed_by}, {change.changed_at:%c})"
    )
    return 0


def run_list(arguments: argparse.Namespace) -> int:
    with psycopg.connect(get_settings().database_url) as conn:
        current = current_percentages(conn)
        changes = history(conn, arguments.history)
    width = max(map(len, current))
    for name, percent in current.items():
        print(f"{name:<{width}}  {switches.describe(percent):>4}  {switches.SWITCHES[name]}")
    print("\nchanges (newest first):" if changes else "\nno changes recorded")
    for change in changes:
        print(
            f"{change.changed_at.isoformat(timespec='seconds')}  {change.changed_by}  "
            f"{change.name}: {switches.describe(change.old_percent)} -> "
            f"{switches.describe(change.new_percent)}"
        )
    return 0
