"""quality.md R2: concurrent writers and a tailing reader — no event skipped, none duplicated."""

from __future__ import annotations

import asyncio
import random
import threading
import uuid
from dataclasses import dataclass

import asyncpg
import pytest

from relivchats.adapters.eventstore import EventStore
from relivchats.domain.events import Event, next_event_fields
from relivchats.projections import eventlog

WRITERS = 4
EVENTS_PER_WRITER = 2500


@dataclass(frozen=True)
class RaceTicked(Event):
    TOPIC = "tests.RaceTicked.v1"
    writer: int
    sequence: int


def write_events(store: EventStore, writer: int, written: list[tuple[uuid.UUID, int]]) -> None:
    """Append EVENTS_PER_WRITER events over a few aggregates, 1 to 8 events per save."""
    rng = random.Random(writer)
    versions = {uuid.uuid4(): 0 for _ in range(5)}
    sequence = 0
    while sequence < EVENTS_PER_WRITER:
        aggregate_id = rng.choice(list(versions))
        count = min(rng.randint(1, 8), EVENTS_PER_WRITER - sequence)
        events = []
        for _ in range(count):
            fields = next_event_fields(aggregate_id, versions[aggregate_id])
            events.append(RaceTicked(writer=writer, sequence=sequence, **fields))
            versions[aggregate_id] += 1
            sequence += 1
        store.append(*events)
        written.extend((e.originator_id, e.originator_version) for e in events)


async def tail(dsn: str, start: int, stop: threading.Event) -> list[tuple[int, uuid.UUID, int]]:
    """Follow the log exactly as the projector does, until the writers are done and caught up."""
    conn = await asyncpg.connect(dsn)
    seen: list[tuple[int, uuid.UUID, int]] = []
    position = start
    try:
        while True:
            finished = stop.is_set()
            head = await eventlog.head_position(conn)
            rows = await eventlog.read_rows(conn, position, head, (RaceTicked.TOPIC,), 300)
            seen.extend(
                (r["notification_id"], r["originator_id"], r["originator_version"]) for r in rows
            )
            position = rows[-1]["notification_id"] if len(rows) == 300 else head
            if finished and position >= head:
                return seen
            if not rows:
                await asyncio.sleep(0.001)
    finally:
        await conn.close()


@pytest.mark.slow
async def test_tailing_reader_sees_every_event_once_in_order(store: EventStore, database_url: str):
    start = store.head()
    written: list[tuple[uuid.UUID, int]] = []
    done = threading.Event()
    threads = [
        threading.Thread(target=write_events, args=(store, writer, written))
        for writer in range(WRITERS)
    ]
    reader = asyncio.create_task(tail(database_url, start, done))
    for thread in threads:
        thread.start()
    await asyncio.to_thread(lambda: [thread.join() for thread in threads])
    done.set()
    seen = await reader

    positions = [position for position, _, _ in seen]
    assert len(written) == WRITERS * EVENTS_PER_WRITER
    assert positions == sorted(positions), "the reader saw events out of order"
    assert len(set(positions)) == len(positions), "the reader saw an event twice"
    assert sorted((a, v) for _, a, v in seen) == sorted(written), "the reader skipped events"
