"""The reservation sweeper releases an expired reservation exactly once, however often it runs."""

from __future__ import annotations

import asyncio
import subprocess
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from relivchats.adapters.eventstore import EventStore, VersionConflict
from relivchats.commands.unit_of_work import execute
from relivchats.domain.credits import ReservationReleased, account_id_for
from relivchats.domain.events import Event
from relivchats.projections.ledger import LedgerProjection
from relivchats.projections.rebuild import rebuild
from relivchats.settings import Settings
from relivchats.workers.app import SWEEP_TASK, create_celery
from relivchats.workers.sweeper import sweep
from tests.helpers import eventually
from tests.ledger_commands import open_account, reserve_coins
from tests.services import REDIS_URL
from tests.worker_platform import start_maintenance_worker

AN_HOUR_AGO = timedelta(hours=-1)


class MeetingStore:
    """The real store as one sweeper process sees it, except that its first load waits for the
    other sweeper's: both then decide on the same version, and one must lose at the append.
    Each sweeper has its own (as a process would: its own account cache and locks)."""

    def __init__(self, store: EventStore, barrier: threading.Barrier):
        self.store = store
        self.command_max_attempts = store.command_max_attempts
        self.barrier = barrier
        self.met = False
        self.conflicts = 0

    def load(self, aggregate_id: uuid.UUID, after: int | None = None) -> list[Event]:
        events = self.store.load(aggregate_id, after=after)
        if not self.met:
            self.met = True
            self.barrier.wait(timeout=10)
        return events

    def append(self, *events: Event) -> int:
        try:
            return self.store.append(*events)
        except VersionConflict:
            self.conflicts += 1
            raise

    def head(self) -> int:
        return self.store.head()


def account_with_expired_reservation(store: EventStore) -> tuple[uuid.UUID, uuid.UUID]:
    user_id = uuid.uuid4()
    execute(store, open_account, user_id)
    expired_at = datetime.now(UTC) + AN_HOUR_AGO
    held = execute(store, reserve_coins, user_id, uuid.uuid4(), 30, uuid.uuid4(), expired_at)
    return user_id, held.reservation_id


def releases(store: EventStore, user_id: uuid.UUID) -> list[ReservationReleased]:
    events = store.load(account_id_for(user_id))
    return [e for e in events if isinstance(e, ReservationReleased)]


async def reservation_projected(database_url: str, reservation_id: uuid.UUID) -> None:
    conn = await asyncpg.connect(database_url)
    try:

        async def projected() -> bool:
            query = "SELECT 1 FROM credit_reservations WHERE reservation_id = $1"
            return await conn.fetchval(query, reservation_id) is not None

        await eventually(projected)
    finally:
        await conn.close()


async def test_two_sweepers_at_the_same_time_release_an_expired_reservation_once(
    store, database_url, projector
):
    user_id, reservation_id = account_with_expired_reservation(store)
    await reservation_projected(database_url, reservation_id)
    barrier = threading.Barrier(2)
    sweepers = [MeetingStore(store, barrier) for _ in range(2)]
    now = datetime.now(UTC)

    results = await asyncio.gather(
        *(asyncio.to_thread(sweep, sweeper, database_url, now, 500) for sweeper in sweepers)
    )

    assert sum(sweeper.conflicts for sweeper in sweepers) >= 1  # they raced on one version
    released = releases(store, user_id)
    assert [(e.reservation_id, e.reason) for e in released] == [(reservation_id, "expired")]
    assert sum(result.failed for result in results) == 0


async def test_sweeping_again_releases_nothing_more(store, database_url, projector):
    user_id, reservation_id = account_with_expired_reservation(store)
    await reservation_projected(database_url, reservation_id)

    first = await asyncio.to_thread(sweep, store, database_url, datetime.now(UTC), 500)
    second = await asyncio.to_thread(sweep, store, database_url, datetime.now(UTC), 500)

    assert first.released >= 1
    assert len(releases(store, user_id)) == 1
    assert (second.released, second.failed) == (0, 0)


async def test_reservations_not_yet_expired_are_left_alone(store, database_url, projector):
    user_id = uuid.uuid4()
    execute(store, open_account, user_id)
    later = datetime.now(UTC) + timedelta(minutes=20)
    held = execute(store, reserve_coins, user_id, uuid.uuid4(), 30, uuid.uuid4(), later)
    await reservation_projected(database_url, held.reservation_id)

    await asyncio.to_thread(sweep, store, database_url, datetime.now(UTC), 500)

    assert releases(store, user_id) == []


def sweeps_succeeded(log_file: Path) -> int:
    lines = log_file.read_text(errors="replace").splitlines()
    return sum(SWEEP_TASK in line and "succeeded" in line for line in lines)


@pytest.mark.slow
async def test_a_celery_worker_sweeps_an_expired_reservation_once(private_database_url, tmp_path):
    settings = Settings(
        database_url=private_database_url,
        redis_url=REDIS_URL,
        celery_key_prefix=f"test-{uuid.uuid4().hex}:",
    )
    store = EventStore(settings)
    worker = start_maintenance_worker(settings, tmp_path / "worker.log", concurrency=2)
    try:
        user_id, _ = account_with_expired_reservation(store)
        await rebuild(private_database_url, LedgerProjection())  # the read model nominates
        celery = create_celery(settings)
        for _ in range(2):  # two sweeps on the worker's two processes, at the same time
            celery.send_task(SWEEP_TASK)

        async def both_sweeps_ran() -> bool:
            return sweeps_succeeded(tmp_path / "worker.log") == 2

        await eventually(both_sweeps_ran, within=60)
        assert len(releases(store, user_id)) == 1
    finally:
        worker.terminate()
        await asyncio.to_thread(_stop, worker)
        store.close()


def _stop(process: subprocess.Popen[Any]) -> None:
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
