"""`relivchats worker` and `relivchats beat`: the Celery processes."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from relivchats.settings import get_settings

ALL_QUEUES = "indexing,generation,maintenance"


def register(subcommands: Any) -> None:
    worker = subcommands.add_parser("worker", help="run a Celery worker")
    worker.add_argument("--queues", default=ALL_QUEUES, help=f"comma-separated ({ALL_QUEUES})")
    worker.add_argument(
        "--concurrency", type=int, default=None, help="processes (WORKER_CONCURRENCY)"
    )
    worker.set_defaults(handler=run_worker)
    beat = subcommands.add_parser("beat", help="run Celery beat (the reservation sweeper's clock)")
    beat.set_defaults(handler=run_beat)


def run_worker(arguments: argparse.Namespace) -> int:
    from relivchats.workers.app import celery_app

    settings = get_settings()
    celery_app.worker_main(
        [
            "worker",
            f"--queues={arguments.queues}",
            f"--concurrency={arguments.concurrency or settings.worker_concurrency}",
            f"--loglevel={settings.log_level}",
            f"--hostname=relivchats-{os.getpid()}@%h",  # several workers on one host
            "--without-gossip",
            "--without-mingle",
        ]
    )
    return 0


def run_beat(_: argparse.Namespace) -> int:
    from relivchats.workers.app import celery_app

    settings = get_settings()
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    schedule = Path(settings.data_dir) / "celerybeat-schedule"
    celery_app.start(["beat", f"--schedule={schedule}", f"--loglevel={settings.log_level}"])
    return 0
