"""`/health/projections`: lag 0 when idle, the failing event when a handler raises, recovery."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import ClassVar

import asyncpg

from relivchats.adapters.eventstore import EventStore
from relivchats.domain.events import Event, next_event_fields
from relivchats.projections.base import Envelope, topics_of
from relivchats.projections.projector import ProjectionRunner
from tests.helpers import eventually, stopped


@dataclass(frozen=True)
class ProbeRecorded(Event):
    TOPIC = "tests.ProbeRecorded.v1"
    poison: bool


class FragileProjection:
    """Counts probes; raises on a poisoned one until `fixed` is set (a deployed fix)."""

    name: ClassVar[str] = f"fragile_{uuid.uuid4().hex[:8]}"
    topics: ClassVar[tuple[str, ...]] = topics_of(ProbeRecorded)
    tables: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        self.fixed = False
        self.applied: list[int] = []

    async def apply(self, conn: asyncpg.Connection, batch: list[Envelope]) -> None:
        for envelope in batch:
            assert isinstance(envelope.event, ProbeRecorded)
            if envelope.event.poison and not self.fixed:
                raise ValueError("cannot handle a poisoned probe")
            self.applied.append(envelope.position)


def record_probe(store: EventStore, poison: bool) -> int:
    return store.append(ProbeRecorded(poison=poison, **next_event_fields(uuid.uuid4(), 0)))


async def projection_entry(client, name: str) -> dict:
    body = (await client.get("/health/projections")).json()
    return next(p for p in body["projections"] if p["name"] == name)


async def test_projection_health_reports_idle_lag_failure_and_recovery(
    app, client, store, settings
):
    projection = FragileProjection()
    app.state.projection_names = [*app.state.projection_names, projection.name]
    runner = ProjectionRunner(settings.database_url, projection, poll_interval=0.05, retry_max=0.2)
    task = asyncio.create_task(runner.run_forever())
    try:
        good = record_probe(store, poison=False)

        async def idle() -> bool:
            entry = await projection_entry(client, projection.name)
            return entry["position"] >= good and entry["lag_events"] == 0

        await eventually(idle)
        entry = await projection_entry(client, projection.name)
        assert entry["lag_seconds"] == 0 and entry["last_error"] is None

        poisoned = record_probe(store, poison=True)
        after = record_probe(store, poison=False)

        async def failed() -> bool:
            return (await projection_entry(client, projection.name))["last_error"] is not None

        await eventually(failed)
        entry = await projection_entry(client, projection.name)
        assert entry["last_error"]["position"] == poisoned
        assert entry["last_error"]["topic"] == ProbeRecorded.TOPIC
        assert "cannot handle a poisoned probe" in entry["last_error"]["message"]
        assert entry["position"] < poisoned
        assert after not in projection.applied, "the projection skipped past the failure"
        assert (await client.get("/health/ready")).status_code == 503

        projection.fixed = True

        async def recovered() -> bool:
            entry = await projection_entry(client, projection.name)
            return entry["position"] >= after and entry["last_error"] is None

        await eventually(recovered)
        assert projection.applied == [good, poisoned, after]
    finally:
        await stopped(task)
        app.state.projection_names.remove(projection.name)


def gauge(metrics_text: str, name: str) -> float:
    line = next(line for line in metrics_text.splitlines() if line.startswith(f"{name} "))
    return float(line.split()[1])


async def test_an_open_transaction_shows_as_horizon_lag_in_health_and_metrics(
    client, store, settings
):
    holder = await asyncpg.connect(settings.database_url)
    try:
        async with holder.transaction():
            await holder.fetchval("SELECT pg_current_xact_id()")  # an id: it holds the horizon
            record_probe(store, poison=False)  # committed, but behind the open transaction
            await asyncio.sleep(0.05)
            horizon = (await client.get("/health/projections")).json()["horizon"]
            assert horizon["waiting_events"] >= 1
            assert horizon["oldest_transaction_seconds"] > 0
            metrics = (await client.get("/metrics")).text
            assert gauge(metrics, "relivchats_horizon_waiting_events") >= 1
            assert gauge(metrics, "relivchats_oldest_transaction_seconds") > 0
    finally:
        await holder.close()
