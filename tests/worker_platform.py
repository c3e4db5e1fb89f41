"""The platform as the insight tests need it: real Celery worker processes (an indexer and a
generation worker) on a private database and a private broker namespace in the tests' Redis,
with the API and the projector (read models + dispatcher) running in the test's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import redis

from relivchats.adapters.eventstore import EventStore
from relivchats.projections.dispatcher import DispatcherProjection
from relivchats.projections.projector import Projector
from relivchats.projections.registry import all_projections
from relivchats.settings import Settings
from relivchats.workers.app import create_celery
from tests.conftest import TEST_SECRET
from tests.helpers import eventually, stopped
from tests.services import REDIS_URL

TERMINAL = ("captured", "released", "expired")


def platform_settings(database_url: str, folder: Path, **overrides: Any) -> Settings:
    return Settings(
        environment="test",
        database_url=database_url,
        redis_url=REDIS_URL,
        celery_key_prefix=f"test-{uuid.uuid4().hex}:",
        jwt_secret=TEST_SECRET,
        jwt_jwks_url=None,
        log_level="WARNING",
        data_dir=str(folder / "data"),
        llm_faults_file=str(folder / "llm-faults.json"),
        rate_limit_unlock="1000/minute",
        insight_retry_backoff_s=0.2,
        **overrides,
    )


def worker_env(settings: Settings) -> dict[str, str]:
    """What a worker process reads: the test's settings, as environment variables."""
    names = (
        "database_url",
        "redis_url",
        "celery_key_prefix",
        "data_dir",
        "llm_faults_file",
        "insight_attempts",
        "insight_retry_backoff_s",
        "celery_visibility_timeout_s",
        "celery_task_soft_time_limit_s",
        "celery_task_time_limit_s",
        "insight_timeout_s",
        "worker_metrics_port",
        "indexer_metrics_port",
    )
    values = {
        name.upper(): str(value) for name in names if (value := getattr(settings, name)) is not None
    }
    return {**os.environ, **values, "LOG_LEVEL": "INFO", "ENVIRONMENT": "test"}


@dataclass
class Workers:
    settings: Settings
    folder: Path
    running: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, arguments: Sequence[str]) -> None:
        log = (self.folder / f"{name}.log").open("ab")
        self.running[name] = subprocess.Popen(
            [sys.executable, "-m", "relivchats", *arguments],
            env=worker_env(self.settings),
            stdout=log,
            stderr=log,
            start_new_session=True,  # its own process group: a kill takes its children too
        )

    def start_all(self) -> None:
        self.start("indexer", ["indexer"])
        self.start("generation", ["worker", "--queues", "generation", "--concurrency", "2"])

    def kill(self, name: str) -> None:
        """SIGKILL the worker and its pool processes: nothing gets to acknowledge or clean up."""
        process = self.running.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")

    async def stop(self) -> None:
        await asyncio.to_thread(stop_process_groups, list(self.running.values()))
        self.running.clear()


def start_maintenance_worker(
    settings: Settings, log_file: Path, concurrency: int
) -> subprocess.Popen[bytes]:
    """A real `relivchats worker` on the maintenance queue (sweeps, purges), logging to a file."""
    command = [sys.executable, "-m", "relivchats", "worker", "--queues", "maintenance"]
    with log_file.open("wb") as log:
        return subprocess.Popen(
            [*command, "--concurrency", str(concurrency)],
            env=worker_env(settings),
            stdout=log,
            stderr=log,
        )


def stop_process_groups(processes: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM each process's group, then wait; a group still there after 20 s is killed."""
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def forget_broker_keys(redis_url: str, prefix: str) -> None:
    """Delete a test's broker namespace (its queues and unacked tasks) from the shared Redis."""
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(f"{prefix}*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@contextlib.asynccontextmanager
async def api_and_projector(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The API (in-process, over ASGI) and the projector with the dispatcher, in this loop."""
    from relivchats.api.app import create_app

    projections = [*all_projections(), DispatcherProjection(create_celery(settings))]
    projector = Projector(settings.database_url, projections, poll_interval=0.05)
    running = asyncio.create_task(projector.run())
    application = create_app(settings)
    try:
        async with application.router.lifespan_context(application):
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
                http.app = application  # type: ignore[attr-defined]
                yield http
    finally:
        await stopped(running)


async def job_finished(
    client: httpx.AsyncClient, headers: dict[str, str], job_id: str, within: float = 120
) -> dict[str, Any]:
    """Poll the job's status (as a client would) until it is over; its last status."""
    seen: dict[str, Any] = {}

    async def over() -> bool:
        response = await client.get(f"/api/insights/jobs/{job_id}/status", headers=headers)
        seen.update(response.json())
        return response.status_code == 200 and seen["status"] in TERMINAL

    await eventually(over, within=within)
    return seen


@contextlib.asynccontextmanager
async def running_platform(
    settings: Settings, folder: Path, *, indexer_only: bool = False
) -> AsyncIterator[tuple[httpx.AsyncClient, Workers, EventStore]]:
    """Workers (all of them, or the indexer alone), the API with its projector and an event
    store; at the end every process stopped and the test's broker keys forgotten."""
    workers = Workers(settings, folder)
    if indexer_only:
        workers.start("indexer", ["indexer"])
    else:
        workers.start_all()
    store = EventStore(settings)
    try:
        async with api_and_projector(settings) as client:
            yield client, workers, store
    finally:
        await workers.stop()
        store.close()
        forget_broker_keys(settings.redis_url, settings.celery_key_prefix)
