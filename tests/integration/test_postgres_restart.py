"""quality.md R9: PostgreSQL restarted twice under load, on a throwaway cluster the test owns.

The platform runs as it would in production, as separate processes: the API (uvicorn), the
projector, a maintenance worker and beat (sweeping reservations that expire within seconds).
Virtual users walk the journey while readers poll (tests/mixed_load.py), and the cluster is
stopped, held down for a few seconds, and started, twice.

Shown: zero 500s; every failure a 503 with Retry-After, answered within the request deadline;
every acknowledged write present afterwards; projections caught up and equal to a rebuild;
`/health/ready` 503 while the database is down and 200 again by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from relivchats.domain.credits import ReservationReleased
from relivchats.projections.rebuild import differences
from relivchats.projections.registry import all_projections
from relivchats.schema import create_database, migrate
from tests.conftest import TEST_SECRET
from tests.helpers import eventually, free_port
from tests.mixed_load import JOURNEYS, Load, journey, report, running_load, under_load
from tests.services import REDIS_URL
from tests.throwaway_postgres import ThrowawayCluster, throwaway_cluster
from tests.worker_platform import stop_process_groups

DEADLINE_S = 8.0
SLACK_S = 1.5  # a loaded 2-core machine schedules the answer a little late
DOWN_S = 3.0
BETWEEN_S = 5.0


def platform_env(database_url: str, folder: Path, api_port: int) -> dict[str, str]:
    return {
        **os.environ,
        "ENVIRONMENT": "test",
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "CELERY_KEY_PREFIX": f"r9-{uuid.uuid4().hex}:",
        "JWT_SECRET": TEST_SECRET,
        "DATA_DIR": str(folder / "data"),
        "LOG_LEVEL": "WARNING",
        "API_PORT": str(api_port),
        "REQUEST_DEADLINE_S": str(DEADLINE_S),
        "UPLOAD_DEADLINE_S": str(DEADLINE_S),
        "RATE_LIMIT_UNLOCK": "100000/minute",
        "RATE_LIMIT_UPLOAD": "100000/minute",
        "PROJECTOR_POLL_INTERVAL_S": "0.2",
        "RESERVATION_EXPIRY_S": "4",
        "RESERVATION_SWEEP_INTERVAL_S": "1",
        "WORKER_CONCURRENCY": "1",
    }


@contextlib.contextmanager
def platform(env: dict[str, str], folder: Path) -> Iterator[dict[str, subprocess.Popen[bytes]]]:
    commands = {
        "api": ["api"],
        "projector": ["projector"],
        "worker": ["worker", "--queues", "maintenance"],
        "beat": ["beat"],
    }
    running: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name, arguments in commands.items():
            with (folder / f"{name}.log").open("wb") as log:
                running[name] = subprocess.Popen(
                    [sys.executable, "-m", "relivchats", *arguments],
                    env=env,
                    stdout=log,
                    stderr=log,
                    start_new_session=True,
                )
        yield running
    finally:
        stop_process_groups(list(running.values()))
        running.clear()


async def ready_status(client: httpx.AsyncClient) -> httpx.Response | None:
    with contextlib.suppress(httpx.HTTPError):
        return await client.get("/health/ready", timeout=DEADLINE_S + SLACK_S)
    return None


async def restart(cluster: ThrowawayCluster, client: httpx.AsyncClient, load: Load, n: int) -> None:
    """Stop the cluster, see readiness fail while it is down, start it, see readiness return."""
    load.phase = f"restart {n}: down"
    await asyncio.to_thread(cluster.stop, "fast")
    down_until = time.monotonic() + DOWN_S
    seen_down: list[httpx.Response | None] = []
    while time.monotonic() < down_until:
        seen_down.append(await ready_status(client))
        await asyncio.sleep(0.2)
    assert seen_down, "readiness was never asked while the database was down"
    for response in seen_down:
        assert response is not None and response.status_code == 503, response
        assert response.headers.get("retry-after")
    load.phase = f"restart {n}: recovering"
    await asyncio.to_thread(cluster.start)
    load.started_again.append(time.monotonic())

    async def ready_again() -> bool:
        response = await ready_status(client)
        return response is not None and response.status_code == 200

    await eventually(ready_again, within=30)
    load.phase = f"after restart {n}"


async def caught_up(database_url: str) -> bool:
    conn = await asyncpg.connect(database_url)
    try:
        head = await conn.fetchval(
            "SELECT coalesce(max(notification_id), 0) FROM relivchats_events"
        )
        rows = await conn.fetch("SELECT name, position, error FROM projection_positions")
    finally:
        await conn.close()
    positions = {row["name"]: (row["position"], row["error"]) for row in rows}
    wanted = [p.name for p in all_projections()]
    return all(
        name in positions and positions[name][0] >= head and positions[name][1] is None
        for name in wanted
    )


async def released_by_the_worker(database_url: str) -> int:
    """Reservations the worker's sweeps released (the journeys' unlocks expire within seconds)."""
    conn = await asyncpg.connect(database_url)
    try:
        count: int = await conn.fetchval(
            "SELECT count(*) FROM relivchats_events WHERE topic = $1", ReservationReleased.TOPIC
        )
        return count
    finally:
        await conn.close()


async def missing_writes(database_url: str, acknowledged: list[tuple[str, uuid.UUID]]) -> list:
    conn = await asyncpg.connect(database_url)
    try:
        present = {
            row["originator_id"]
            for row in await conn.fetch(
                "SELECT DISTINCT originator_id FROM relivchats_events"
                " WHERE originator_id = ANY($1::uuid[])",
                [aggregate_id for _, aggregate_id in acknowledged],
            )
        }
    finally:
        await conn.close()
    return [
        (kind, aggregate_id) for kind, aggregate_id in acknowledged if aggregate_id not in present
    ]


@pytest.mark.slow
@pytest.mark.timeout(240)
async def test_postgres_restarted_twice_under_load_answers_503_not_500_and_loses_nothing(
    tmp_path: Path,
):
    with throwaway_cluster() as cluster:
        database_url = cluster.url("relivchats_r9")
        create_database(database_url)
        migrate(database_url)
        api_port = free_port()
        env = platform_env(database_url, tmp_path, api_port)
        load = Load()
        with platform(env, tmp_path) as processes:
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{api_port}", timeout=DEADLINE_S + SLACK_S
            ) as client:

                async def api_ready() -> bool:
                    response = await ready_status(client)
                    return response is not None and response.status_code == 200

                await eventually(api_ready, within=60)
                load.phase = "warm-up"  # the first upload waits for the parsing processes
                await journey(client, load)
                load.phase = "before"
                async with running_load(client, load) as clients:
                    await under_load(clients, BETWEEN_S)
                    await restart(cluster, client, load, 1)
                    await under_load(clients, BETWEEN_S)
                    await restart(cluster, client, load, 2)
                    await under_load(clients, BETWEEN_S)
                counts = report(load, DEADLINE_S)
                print("\n" + counts)
                (tmp_path / "counts.txt").write_text(counts)
                (tmp_path / "answers.json").write_text(json.dumps([vars(a) for a in load.answers]))
                for name in ("worker", "beat"):  # their sweeps append too: stop them first
                    processes[name].send_signal(signal.SIGTERM)
                    processes[name].wait(timeout=30)
                await eventually(lambda: caught_up(database_url), within=60)

        assert 500 not in load.by_status(), counts
        failures = [a for a in load.answers if a.status >= 300]
        assert all(a.status == 503 and a.retry_after for a in failures), failures
        assert all(a.seconds <= DEADLINE_S + SLACK_S for a in load.answers), counts
        assert len(load.acknowledged) >= 2 * JOURNEYS, counts
        assert await missing_writes(database_url, load.acknowledged) == []
        assert await released_by_the_worker(database_url) > 0
        for projection in all_projections():
            changed = await differences(database_url, projection)
            assert set(changed.values()) == {0}, (projection.name, changed)
