"""Long-running processes: `api`, `projector`, and the one-shot `migrate`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from typing import Any

from relivchats.adapters.metrics_exporter import serve_metrics
from relivchats.projections.metrics import report_status_forever
from relivchats.projections.projector import Projector
from relivchats.projections.registry import running_projections
from relivchats.schema import create_database, migrate
from relivchats.settings import get_settings

log = logging.getLogger(__name__)


def register(subcommands: Any) -> None:
    api = subcommands.add_parser("api", help="serve the HTTP API (uvicorn)")
    api.add_argument("--host", default=None)
    api.add_argument("--port", type=int, default=None)
    api.add_argument("--workers", type=int, default=1)
    api.set_defaults(handler=run_api)
    projector = subcommands.add_parser("projector", help="run every projection")
    projector.set_defaults(handler=run_projector)
    migrator = subcommands.add_parser("migrate", help="create the database and apply migrations")
    migrator.set_defaults(handler=run_migrate)


def run_api(arguments: argparse.Namespace) -> int:
    import uvicorn

    settings = get_settings()
    uvicorn.run(
        "relivchats.api.app:create_app",
        factory=True,
        host=arguments.host or settings.api_host,
        port=arguments.port or settings.api_port,
        workers=arguments.workers,
        log_config=None,
        access_log=False,
        loop="uvloop",
        http="httptools",
    )
    return 0


def run_projector(_: argparse.Namespace) -> int:
    settings = get_settings()
    projector = Projector(
        settings.database_url,
        running_projections(),
        batch_size=settings.projector_batch_size,
        poll_interval=settings.projector_poll_interval_s,
        retry_max=settings.projector_retry_max_s,
    )
    names = [r.name for r in projector.runners]
    log.info("projector starting", extra={"projections": names})
    serve_metrics(settings.metrics_host, settings.projector_metrics_port, process="projector")

    async def run_and_report() -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(report_status_forever(settings.database_url, names))
            group.create_task(projector.run())

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_and_report())
    return 0


def run_migrate(_: argparse.Namespace) -> int:
    settings = get_settings()
    if create_database(settings.database_url):
        log.info("database created", extra={"database": settings.database_name})
    applied = migrate(settings.database_url)
    log.info("migrations done", extra={"applied": applied})
    return 0
