"""`relivchats audit replay|verify --user ID | --all` and `relivchats audit export --user ID`.

`replay` (or `verify`: the same) folds each account's events with the pure domain, recomputes
its hash chain and compares the read model (see relivchats/audit.py); it exits 1 if anything
differs, naming the first event whose hash does not match. `export` writes one user's ledger,
replayed from the events, as CSV or JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import sys
from typing import Any
from uuid import UUID

import orjson
from tqdm import tqdm

from relivchats.audit import Verification, audited_account_ids, replayed_ledger, verify_account
from relivchats.domain.credits import account_id_for
from relivchats.projections.projector import connect
from relivchats.settings import get_settings

DIFFERENT, NO_LEDGER = 1, 2


def register(subcommands: Any) -> None:
    group = subcommands.add_parser("audit", help="replay and export coin ledgers")
    actions = group.add_subparsers(dest="action", required=True)
    replay = actions.add_parser("replay", help="replay events, compare with the read model")
    chosen = replay.add_mutually_exclusive_group(required=True)
    chosen.add_argument("--user", type=UUID, help="user id")
    chosen.add_argument("--all", action="store_true", help="every account, with a progress bar")
    replay.set_defaults(handler=run_replay)
    verify = actions.add_parser(
        "verify", help="the same replay, named for the hash chain it also checks"
    )
    chosen = verify.add_mutually_exclusive_group(required=True)
    chosen.add_argument("--user", type=UUID, help="user id")
    chosen.add_argument("--all", action="store_true", help="every account, with a progress bar")
    verify.set_defaults(handler=run_replay)
    export = actions.add_parser("export", help="a user's ledger replayed from events")
    export.add_argument("--user", type=UUID, required=True, help="user id")
    export.add_argument("--format", choices=("csv", "json"), default="csv")
    export.set_defaults(handler=run_export)


def run_replay(arguments: argparse.Namespace) -> int:
    if arguments.all:
        return asyncio.run(_replay_all())
    return asyncio.run(_replay_one(arguments.user))


async def _replay_one(user_id: UUID) -> int:
    conn = await connect(get_settings().database_url)
    try:
        result = await verify_account(conn, account_id_for(user_id))
    finally:
        await conn.close()
    if result.events == 0 and result.ok:
        print(f"user {user_id} has no ledger", file=sys.stderr)
        return NO_LEDGER
    _print(_report(result))
    return 0 if result.ok else DIFFERENT


async def _replay_all() -> int:
    conn = await connect(get_settings().database_url)
    failed: list[Verification] = []
    events = 0
    try:
        accounts = await audited_account_ids(conn)
        for account_id in tqdm(accounts, unit="account", desc="audit", file=sys.stderr):
            result = await verify_account(conn, account_id)
            events += result.events
            if not result.ok:
                failed.append(result)
    finally:
        await conn.close()
    _print(
        {
            "accounts": len(accounts),
            "events": events,
            "accounts_with_differences": len(failed),
            "differences": [_report(result) for result in failed[:20]],
        }
    )
    return DIFFERENT if failed else 0


def run_export(arguments: argparse.Namespace) -> int:
    rows = asyncio.run(_exported(arguments.user))
    if not rows:
        print(f"user {arguments.user} has no ledger", file=sys.stderr)
        return NO_LEDGER
    if arguments.format == "json":
        _print(rows)
        return 0
    writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return 0


async def _exported(user_id: UUID) -> list[dict[str, Any]]:
    conn = await connect(get_settings().database_url)
    try:
        return await replayed_ledger(conn, account_id_for(user_id))
    finally:
        await conn.close()


def _report(result: Verification) -> dict[str, Any]:
    return {
        "account_id": result.account_id,
        "user_id": result.user_id,
        "ok": result.ok,
        "events": result.events,
        "checked_upto": result.checked_upto,
        "balance": result.balance,
        "held": result.held,
        "differences": [difference.as_dict() for difference in result.differences],
    }


def _print(value: Any) -> None:
    print(orjson.dumps(value, default=str, option=orjson.OPT_INDENT_2).decode())
