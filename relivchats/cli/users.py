"""`relivchats users erase --user ID [--now]` and `relivchats users export --user ID`.

`erase` erases a deleted account (commands/erasure.py): with `--now` at once, skipping the rest
of the grace period (drills, tests, or the user's own request), else only if it is due. `export`
prints everything held about a user (relivchats/account_export.py), as the API's export does.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson

from relivchats.account_export import as_json, export_account
from relivchats.adapters.crypto import ContentCipher
from relivchats.adapters.eventstore import EventStore
from relivchats.commands.erasure import erase_account
from relivchats.domain.errors import DomainError
from relivchats.projections.projector import connect
from relivchats.settings import get_settings

REFUSED, NO_ACCOUNT = 1, 2


def register(subcommands: Any) -> None:
    group = subcommands.add_parser("users", help="erase or export an account")
    actions = group.add_subparsers(dest="action", required=True)
    erase = actions.add_parser("erase", help="erase a deleted account (crypto-shredding)")
    erase.add_argument("--user", type=UUID, required=True, help="user id")
    erase.add_argument("--now", action="store_true", help="skip the rest of the grace period")
    erase.set_defaults(handler=run_erase)
    export = actions.add_parser("export", help="everything held about a user, as JSON")
    export.add_argument("--user", type=UUID, required=True, help="user id")
    export.set_defaults(handler=run_export)


def run_erase(arguments: argparse.Namespace) -> int:
    settings = get_settings()
    store = EventStore(settings)
    try:
        result = erase_account(
            store,
            settings.database_url,
            arguments.user,
            datetime.now(tz=UTC),
            skip_grace=arguments.now,
        )
    except DomainError as refused:
        print(f"not erased: {refused}", file=sys.stderr)
        return REFUSED
    finally:
        store.close()
    print(orjson.dumps(result, default=str, option=orjson.OPT_INDENT_2).decode())
    return 0


def run_export(arguments: argparse.Namespace) -> int:
    export = asyncio.run(_exported(arguments.user))
    if export is None:
        print(f"user {arguments.user} has no account (or it was deleted)", file=sys.stderr)
        return NO_ACCOUNT
    sys.stdout.buffer.write(as_json(export) + b"\n")
    return 0


async def _exported(user_id: UUID) -> dict[str, Any] | None:
    settings = get_settings()
    conn = await connect(settings.database_url)
    try:
        return await export_account(conn, ContentCipher.from_settings(settings), user_id)
    finally:
        await conn.close()
