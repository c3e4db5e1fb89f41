"""`relivchats projections status [--max-lag N]|rebuild NAME`.

`status --max-lag N` doubles as the projector's health check (docker-compose.yml): it exits 1
when a projection has stopped at a poison event or trails the log by more than N events.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

import orjson

from relivchats.projections.projector import connect
from relivchats.projections.rebuild import rebuild
from relivchats.projections.registry import all_projections, projection_named, running_projections
from relivchats.projections.status import ProjectionStatus, projection_statuses
from relivchats.settings import get_settings


def register(subcommands: Any) -> None:
    group = subcommands.add_parser("projections", help="inspect or rebuild read models")
    actions = group.add_subparsers(dest="action", required=True)
    status = actions.add_parser("status", help="position, lag and last error per projection")
    status.add_argument(
        "--max-lag", type=int, default=None, help="exit 1 on an error or a lag above N events"
    )
    status.set_defaults(handler=show_status)
    rebuilder = actions.add_parser("rebuild", help="replay from the first event, then switch")
    rebuilder.add_argument("name", help="projection name, or 'all' (every read model)")
    rebuilder.set_defaults(handler=run_rebuild)


def show_status(arguments: argparse.Namespace) -> int:
    async def fetch() -> list[ProjectionStatus]:
        conn = await connect(get_settings().database_url)
        try:
            return await projection_statuses(conn, [p.name for p in running_projections()])
        finally:
            await conn.close()

    statuses = asyncio.run(fetch())
    shown = [status.as_dict() for status in statuses]
    print(orjson.dumps(shown, option=orjson.OPT_INDENT_2).decode())
    if arguments.max_lag is None:
        return 0
    healthy = all(s.error is None and s.lag_events <= arguments.max_lag for s in statuses)
    return 0 if healthy else 1


def run_rebuild(arguments: argparse.Namespace) -> int:
    chosen = all_projections() if arguments.name == "all" else [projection_named(arguments.name)]
    dsn = get_settings().database_url
    for projection in chosen:
        try:
            result = asyncio.run(rebuild(dsn, projection, switch=True, progress=True))
        except ValueError as refused:  # an effect projection (the dispatcher)
            print(refused, file=sys.stderr)
            return 2
        print(
            f"{result.projection}: {result.events} events to position"
            f" {result.position.notification_id}"
            f" in {result.seconds:.2f} s ({result.events_per_second:,.0f} events/s)"
        )
    return 0
