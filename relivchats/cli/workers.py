"""`relivchats worker`, `relivchats indexer` and `relivchats beat`: the Celery processes.

`worker` runs the generation and maintenance queues in parallel processes. `indexer` runs the
indexing queue in ONE process, the single owner of the local vector store (Qdrant's embedded
mode allows one client per path) and of the embedding model, loaded once when it starts.
With `QDRANT_URL` set, `indexer --concurrency N` may run more.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from relivchats.adapters.metrics_exporter import multiprocess_registry, serve_metrics
from relivchats.settings import get_settings

WORKER_QUEUES = "generation,maintenance"


def register(subcommands: Any) -> None:
    worker = subcommands.add_parser("worker", help="run a Celery worker")
    worker.add_argument(
        "--queues", default=WORKER_QUEUES, help=f"comma-separated (default {WORKER_QUEUES})"
    )
    worker.add_argument(
        "--concurrency", type=int, default=None, help="processes (WORKER_CONCURRENCY)"
    )
    worker.set_defaults(handler=run_worker)
    indexer = subcommands.add_parser(
        "indexer", help="run the indexing worker (owner of the vector store and the embedder)"
    )
    indexer.add_argument(
        "--concurrency", type=int, default=1, help="processes (more only with QDRANT_URL)"
    )
    indexer.set_defaults(handler=run_indexer)
    beat = subcommands.add_parser("beat", help="run Celery beat (the reservation sweeper's clock)")
    beat.set_defaults(handler=run_beat)


def run_worker(arguments: argparse.Namespace) -> int:
    settings = get_settings()
    _export_when_ready("worker", settings.worker_metrics_port)
    _work(arguments.queues, arguments.concurrency or settings.worker_concurrency)
    return 0


def _export_when_ready(process: str, port: int) -> None:
    """Serve the sum of every pool process's samples once the pool is up (multiprocess mode)."""
    from celery.signals import worker_ready

    from relivchats.workers.app import queue_depth

    settings = get_settings()

    def serve(**_: Any) -> None:
        registry = multiprocess_registry(queue_depth(settings))
        serve_metrics(settings.metrics_host, port, registry, process=process)

    worker_ready.connect(serve, weak=False)


def run_indexer(arguments: argparse.Namespace) -> int:
    from celery.signals import worker_process_init

    from relivchats.workers.app import celery_app
    from relivchats.workers.indexing import warm_up

    if arguments.concurrency > 1 and not get_settings().qdrant_url:
        raise SystemExit("the local vector store has one owner: --concurrency 1 without QDRANT_URL")
    # Each process loads the embedder as it starts (seconds): give it time to report ready.
    celery_app.conf.worker_proc_alive_timeout = 120
    worker_process_init.connect(warm_up, weak=False)
    _export_when_ready("indexer", get_settings().indexer_metrics_port)
    _work("indexing", arguments.concurrency)
    return 0


def _work(queues: str, concurrency: int) -> None:
    from relivchats.workers.app import celery_app

    celery_app.worker_main(
        [
            "worker",
            f"--queues={queues}",
            f"--concurrency={concurrency}",
            f"--loglevel={get_settings().log_level}",
            f"--hostname=relivchats-{os.getpid()}@%h",  # several workers on one host
            "--without-gossip",
            "--without-mingle",
        ]
    )


def run_beat(_: argparse.Namespace) -> int:
    from prometheus_client import REGISTRY

    from relivchats.workers.app import celery_app, queue_depth

    settings = get_settings()
    REGISTRY.register(queue_depth(settings))
    serve_metrics(settings.metrics_host, settings.beat_metrics_port, process="beat")
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    schedule = Path(settings.data_dir) / "celerybeat-schedule"
    celery_app.start(["beat", f"--schedule={schedule}", f"--loglevel={settings.log_level}"])
    return 0
