"""quality.md R9: PostgreSQL restarted twice under load, on a throwaway cluster the test owns.

The platform runs as it would in production, as separate processes: the API (uvicorn), the
projector, a maintenance worker and beat (sweeping reservations that expire within seconds).
Virtual users walk the journey (register, order, signed webhook, upload, unlock, which
reserves coins) while readers poll their balance, profile and chats, and the cluster is stopped,
held down, and started, twice. A client that gets 503 honours it and tries the same request
again (the same Idempotency-Key, the same webhook event id), as a provider would.

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
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from relivchats.adapters.identity import mint_local_token
from relivchats.adapters.payments import EventKind
from relivchats.domain.credits import ReservationReleased
from relivchats.domain.webhooks import receipt_id_for
from relivchats.projections.rebuild import differences
from relivchats.projections.registry import all_projections
from relivchats.schema import create_database, migrate
from tests.chat_uploads import small_export
from tests.conftest import TEST_SECRET
from tests.helpers import auth, eventually
from tests.payment_flows import delivery
from tests.throwaway_postgres import ThrowawayCluster, free_port, throwaway_cluster

DEADLINE_S = 8.0
SLACK_S = 1.5  # a loaded 2-core machine schedules the answer a little late
JOURNEYS = 4
READERS = 2
DOWN_S = 3.0
BETWEEN_S = 5.0
HTTP_METHODS_WRITING = ("POST", "PUT", "DELETE")


@dataclass(frozen=True)
class Answer:
    phase: str
    method: str
    route: str
    status: int
    seconds: float
    retry_after: str | None
    at: float = field(default_factory=time.monotonic)  # when the answer came


@dataclass
class Load:
    """Every answer the clients got, and the writes the API acknowledged."""

    phase: str = "before"
    answers: list[Answer] = field(default_factory=list)
    acknowledged: list[tuple[str, uuid.UUID]] = field(default_factory=list)
    stopping: bool = False
    started_again: list[float] = field(default_factory=list)  # each restart's start-up

    def by_status(self, *phases: str) -> dict[int, int]:
        return dict(Counter(a.status for a in self.answers if not phases or a.phase in phases))


class Unexpected(Exception):
    """An answer that is neither a success nor a 503: the test fails on it."""


async def call(
    client: httpx.AsyncClient, load: Load, method: str, route: str, url: str, **sent: Any
) -> httpx.Response:
    """Send until answered 2xx; a 503 is honoured (waited on) and the same request sent again."""
    while True:
        started = time.monotonic()
        try:
            response = await client.request(method, url, **sent)
        except httpx.HTTPError as error:
            load.answers.append(Answer(load.phase, method, route, 0, 0.0, None))
            raise Unexpected(f"{method} {route}: {type(error).__name__}") from error
        seconds = time.monotonic() - started
        load.answers.append(
            Answer(
                load.phase,
                method,
                route,
                response.status_code,
                seconds,
                response.headers.get("retry-after"),
            )
        )
        if response.status_code < 300:
            return response
        if response.status_code != 503:
            raise Unexpected(f"{method} {route}: {response.status_code} {response.text[:300]}")
        await asyncio.sleep(min(float(response.headers.get("retry-after", "1")), 1.0))


def new_user() -> dict[str, str]:
    subject = f"r9-{uuid.uuid4().hex}"
    return auth(
        mint_local_token(TEST_SECRET, subject, issuer="relivchats-local", audience="relivchats")
    )


async def journey(client: httpx.AsyncClient, load: Load) -> None:
    """One new user's way through the product; each acknowledged write is remembered."""
    headers = new_user()
    stored = await call(client, load, "POST", "register", "/api/users/store", headers=headers)
    load.acknowledged.append(("user", uuid.UUID(stored.json()["user_id"])))

    order_headers = {**headers, "Idempotency-Key": uuid.uuid4().hex}
    body = {"package_id": "popular", "provider": "razorpay"}
    placed = await call(
        client, load, "POST", "order", "/api/payments/orders", json=body, headers=order_headers
    )
    order = placed.json()
    load.acknowledged.append(("order", uuid.UUID(order["order_id"])))

    event_id = f"evt_{uuid.uuid4().hex[:20]}"
    webhook = delivery(order, EventKind.CAPTURED, event_id=event_id)
    url = "/api/payments/webhooks/razorpay"
    await call(client, load, "POST", "webhook", url, content=webhook.body, headers=webhook.headers)
    load.acknowledged.append(("webhook receipt", receipt_id_for("razorpay", event_id)))

    upload_headers = {**headers, "Idempotency-Key": uuid.uuid4().hex}
    files = {"file": ("WhatsApp Chat.txt", small_export(60, participants=("Asha", "Ben")))}
    uploaded = await call(
        client, load, "POST", "upload", "/api/chats/upload", files=files, headers=upload_headers
    )
    chat_id = uploaded.json()["chat"]["chat_id"]
    load.acknowledged.append(("chat", uuid.UUID(chat_id)))

    unlock_headers = {**headers, "Idempotency-Key": uuid.uuid4().hex}
    body = {"chat_id": chat_id, "category_id": "romantic"}
    opened = await call(
        client, load, "POST", "unlock", "/api/insights/unlock", json=body, headers=unlock_headers
    )
    load.acknowledged.append(("insight job", uuid.UUID(opened.json()["job_id"])))


async def keep_walking(client: httpx.AsyncClient, load: Load) -> None:
    while not load.stopping:
        await journey(client, load)


async def keep_reading(client: httpx.AsyncClient, load: Load) -> None:
    headers = new_user()
    stored = await call(client, load, "POST", "register", "/api/users/store", headers=headers)
    # Read-your-writes once, so the reader's rows exist before the restarts begin.
    position = stored.json()["position"]
    url = f"/api/credits/balance?min_position={position}"
    await call(client, load, "GET", "balance", url, headers=headers)
    reads = [("balance", "/api/credits/balance"), ("me", "/api/users/me"), ("chats", "/api/chats")]
    while not load.stopping:
        for route, url in reads:
            await call(client, load, "GET", route, url, headers=headers)
        await asyncio.sleep(0.02)


def platform_env(database_url: str, folder: Path, api_port: int) -> dict[str, str]:
    return {
        **os.environ,
        "ENVIRONMENT": "test",
        "DATABASE_URL": database_url,
        "REDIS_URL": "redis://127.0.0.1:6379/15",
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
        stop_processes(running)


def stop_processes(running: dict[str, subprocess.Popen[bytes]]) -> None:
    for process in running.values():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    for process in running.values():
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
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


@contextlib.asynccontextmanager
async def running_load(client: httpx.AsyncClient, load: Load) -> AsyncIterator[list[asyncio.Task]]:
    tasks = [asyncio.create_task(keep_walking(client, load)) for _ in range(JOURNEYS)]
    tasks += [asyncio.create_task(keep_reading(client, load)) for _ in range(READERS)]
    try:
        yield tasks
    finally:
        load.stopping = True
        results = await asyncio.gather(*tasks, return_exceptions=True)
        problems = [r for r in results if isinstance(r, BaseException)]
        assert not problems, problems


async def under_load(clients: list[asyncio.Task], seconds: float) -> None:
    """Let the load run; a client that met an unexpected answer fails the test at once."""
    done, _ = await asyncio.wait(clients, timeout=seconds, return_when=asyncio.FIRST_EXCEPTION)
    for task in done:
        task.result()


def report(load: Load) -> str:
    phases = list(dict.fromkeys(a.phase for a in load.answers))
    lines = ["R9 request counts by status:"]
    lines += [f"  {phase}: {load.by_status(phase)}" for phase in phases]
    restarts = [p for p in phases if p.startswith("restart")]
    lines.append(f"  during the restarts (down + recovering): {load.by_status(*restarts)}")
    lines.append(f"  all: {load.by_status()}; acknowledged writes: {len(load.acknowledged)}")
    slowest = max((a.seconds for a in load.answers if a.status == 503), default=0.0)
    lines.append(f"  slowest 503: {slowest:.2f} s (deadline {DEADLINE_S:g} s)")
    for n, started in enumerate(load.started_again, 1):
        writes = [a.at for a in load.answers if a.method == "POST" and a.status < 300]
        reads = [a.at for a in load.answers if a.method == "GET" and a.status < 300]
        lines.append(
            f"  restart {n}: first read served {first_after(reads, started)},"
            f" first write acknowledged {first_after(writes, started)} after the cluster was up"
        )
    return "\n".join(lines)


def first_after(moments: list[float], started: float) -> str:
    later = [moment - started for moment in moments if moment >= started]
    return f"{min(later):.1f} s" if later else "never"


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
                print("\n" + report(load))
                (tmp_path / "counts.txt").write_text(report(load))
                (tmp_path / "answers.json").write_text(json.dumps([vars(a) for a in load.answers]))
                for name in ("worker", "beat"):  # their sweeps append too: stop them first
                    processes[name].send_signal(signal.SIGTERM)
                    processes[name].wait(timeout=30)
                await eventually(lambda: caught_up(database_url), within=60)

        statuses = load.by_status()
        assert 500 not in statuses, report(load)
        failures = [a for a in load.answers if a.status >= 300]
        assert all(a.status == 503 and a.retry_after for a in failures), failures
        assert all(a.seconds <= DEADLINE_S + SLACK_S for a in load.answers), report(load)
        assert len(load.acknowledged) >= 2 * JOURNEYS, report(load)
        assert await missing_writes(database_url, load.acknowledged) == []
        assert await released_by_the_worker(database_url) > 0
        for projection in all_projections():
            changed = await differences(database_url, projection)
            assert set(changed.values()) == {0}, (projection.name, changed)
