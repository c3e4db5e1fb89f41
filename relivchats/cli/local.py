"""`relivchats run`: the whole platform on one machine, with no keys and no set-up."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from relivchats.adapters.local_services import LocalServices
from relivchats.schema import create_database, migrate
from relivchats.settings import Settings, get_settings

log = logging.getLogger(__name__)

# Each entry is `relivchats <subcommand>` run as a child process.
PROCESSES = ("api", "projector", "worker", "indexer", "beat")


def register(subcommands: Any) -> None:
    run = subcommands.add_parser("run", help="migrate and start every process locally")
    run.set_defaults(handler=run_platform)


def _service_env(settings: Settings, services: LocalServices) -> dict[str, str]:
    configured = settings.model_fields_set
    defaults = Settings.model_fields
    database_url = services.postgres_url(
        settings.database_url if "database_url" in configured else None,
        str(defaults["database_url"].default),
        settings.database_name,
    )
    redis_url = services.redis_url(
        settings.redis_url if "redis_url" in configured else None,
        str(defaults["redis_url"].default),
    )
    return {"DATABASE_URL": database_url, "REDIS_URL": redis_url}


def run_platform(_: argparse.Namespace) -> int:
    settings = get_settings()
    services = LocalServices(Path(settings.data_dir))
    service_env = _service_env(settings, services)
    create_database(service_env["DATABASE_URL"])
    migrate(service_env["DATABASE_URL"])
    env = {**os.environ, **service_env}
    children = [
        subprocess.Popen([sys.executable, "-m", "relivchats", name], env=env)  # noqa: S603
        for name in PROCESSES
    ]
    print(f"RelivChats is running at http://{settings.api_host}:{settings.api_port}", flush=True)
    return _supervise(children)


def _supervise(children: list[subprocess.Popen[bytes]]) -> int:
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while not stopping and all(child.poll() is None for child in children):
        time.sleep(0.5)
    for child in children:
        if child.poll() is None:
            child.terminate()
    for child in children:
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
    failed = [child.args for child in children if child.returncode not in (0, -signal.SIGTERM)]
    if failed and not stopping:
        log.error("a process stopped; platform shut down", extra={"processes": str(failed)})
        return 1
    return 0
