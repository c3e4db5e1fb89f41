"""Prometheus exporters of the processes that serve no HTTP of their own.

`projector` and `beat` are one process each: they serve their default registry on their port
(`PROJECTOR_METRICS_PORT`, `BEAT_METRICS_PORT`). `worker` and `indexer` run their tasks in
prefork children, so they use prometheus-client's multiprocess mode: every process writes its
samples to files under `DATA_DIR/metrics/<command>-<pid>/` and the parent serves their sum on
`WORKER_METRICS_PORT` / `INDEXER_METRICS_PORT`. That directory must be named before
prometheus-client is first imported, which is why `use_multiprocess_files` is called by the CLI
before it imports any command, and why this module imports prometheus-client lazily.

A port already taken is logged as an error and the process runs on without an exporter: a
scrape that fails is an alert, a worker that refuses to start is an outage.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"


def use_multiprocess_files(data_dir: str, command: str) -> Path:
    """A fresh directory for this process tree's samples; call before importing prometheus."""
    folder = Path(data_dir).resolve() / "metrics" / f"{command}-{os.getpid()}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    os.environ[MULTIPROCESS_ENV] = str(folder)
    return folder


def multiprocess_registry(*collectors: Any) -> Any:
    from prometheus_client import CollectorRegistry
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    for collector in collectors:
        registry.register(collector)
    return registry


def serve_metrics(host: str, port: int, registry: Any = None, *, process: str) -> bool:
    """Serve `registry` (default: the process's) on host:port in a thread; False if not."""
    from prometheus_client import REGISTRY, start_http_server

    if not port:
        log.warning("metrics exporter off", extra={"exporter": process})
        return False
    try:
        start_http_server(port, addr=host, registry=registry or REGISTRY)
    except OSError as error:
        log.error(
            "metrics exporter could not listen",
            extra={"exporter": process, "port": port, "error": repr(error)},
        )
        return False
    log.info("metrics exporter listening", extra={"exporter": process, "port": port})
    return True
