"""quality.md R2 and issue 11: concurrent appends without a table lock, and a gap-safe tail.

Writers append concurrently; a reader follows the log exactly as the projector does (settled
transactions only, in (transaction id, notification id) order). One writer sometimes holds its
transaction open for 2 s with rows inserted, one always rolls back: the reader must still see
every committed event once, in the order of the pair, and never a rolled-back one.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

from relivchats.adapters.eventstore import EventStore
from relivchats.domain.events import Event, next_event_fields
from relivchats.projections import eventlog
from relivchats.projections.base import LogPosition
from relivchats.settings import Settings

WRITERS = 16  # 14 plain, one that holds transactions open, one that rolls back
EVENTS_PER_WRITER = 700
HOLD_S = 2.0

Written = tuple[uuid.UUID, int]
Seen = tuple[LogPosition, uuid.UUID, int]


@dataclass(frozen=True)
class RaceTicked(Event):
    TOPIC = "tests.RaceTicked.v1"
    writer: int
    sequence: int


@contextlib.contextmanager
def open_append(store: EventStore, *events: Event, commit: bool = True) -> Iterator[None]:
    """Insert `events` through the store's own recorder and keep the transaction open while the
    caller's block runs; then commit (or roll back). What a slow save looks like to others."""
    app: Any = store._app  # the library's application: its recorder and mapper, as save() uses
    stored = [app.mapper.to_stored_event(event) for event in events]
    with app.recorder.datastore.transaction(commit=commit) as curs:
        app.recorder._insert_stored_events(curs, stored)
        yield


def ticks(writer: int, aggregate: uuid.UUID, version: int, first: int, count: int) -> list[Event]:
    return [
        RaceTicked(writer=writer, sequence=first + n, **next_event_fields(aggregate, version + n))
        for n in range(count)
    ]


def write_events(store: EventStore, writer: int, mode: str, written: list[Written]) -> None:
    """Append EVENTS_PER_WRITER events over a few aggregates, 1 to 8 events per save.

    mode "hold": about one save in 40 stays open HOLD_S before committing; "rollback": every save
    is rolled back (nothing it inserted may ever be read).
    """
    rng = random.Random(writer)
    versions = {uuid.uuid4(): 0 for _ in range(5)}
    sequence = 0
    while sequence < EVENTS_PER_WRITER:
        aggregate_id = rng.choice(list(versions))
        count = min(rng.randint(1, 8), EVENTS_PER_WRITER - sequence)
        events = ticks(writer, aggregate_id, versions[aggregate_id], sequence, count)
        sequence += count
        if mode == "rollback":
            with open_append(store, *events, commit=False):
                pass
            continue
        if mode == "hold" and rng.random() < 1 / 40:
            with open_append(store, *events):
                time.sleep(HOLD_S)
        else:
            store.append(*events)
        versions[aggregate_id] += count
        written.extend((e.originator_id, e.originator_version) for e in events)


async def tail(
    conn: asyncpg.Connection, start: LogPosition, topic: str, stop: threading.Event
) -> list[Seen]:
    """Follow the log exactly as the projector does, until the writers are done and caught up."""
    seen: list[Seen] = []
    position = start
    while True:
        finished = stop.is_set()
        head = await eventlog.head(conn)
        rows = await eventlog.read_rows(conn, position, head.settled, (topic,), 300)
        seen.extend(
            (eventlog.row_position(r), r["originator_id"], r["originator_version"]) for r in rows
        )
        position = eventlog.row_position(rows[-1]) if len(rows) == 300 else head.settled
        if finished and len(rows) < 300 and not head.waiting:
            return seen
        if not rows:
            await asyncio.sleep(0.001)


@pytest.fixture
def wide_store(database_url: str) -> Iterator[EventStore]:
    """One connection per writer: the writers really do run at once."""
    store = EventStore(Settings(database_url=database_url, eventstore_pool_size=WRITERS))
    yield store
    store.close()


@pytest.mark.slow
async def test_tailing_reader_sees_every_committed_event_once_in_pair_order(
    wide_store: EventStore, database_url: str
):
    conn = await asyncpg.connect(database_url)
    start = await eventlog.head_position(conn)
    written: list[Written] = []
    done = threading.Event()
    modes = ["hold", "rollback"] + ["plain"] * (WRITERS - 2)
    threads = [
        threading.Thread(target=write_events, args=(wide_store, writer, mode, written))
        for writer, mode in enumerate(modes)
    ]
    reader = asyncio.create_task(tail(conn, start, RaceTicked.TOPIC, done))
    for thread in threads:
        thread.start()
    await asyncio.to_thread(lambda: [thread.join() for thread in threads])
    done.set()
    seen = await reader
    await conn.close()

    positions = [position for position, _, _ in seen]
    assert len(written) == (WRITERS - 1) * EVENTS_PER_WRITER
    assert positions == sorted(positions), "the reader saw events out of the pair's order"
    assert len(set(positions)) == len(positions), "the reader saw an event twice"
    assert sorted((a, v) for _, a, v in seen) == sorted(written), "skipped or rolled-back events"


async def test_a_save_held_open_neither_blocks_another_nor_is_passed_by_the_reader(
    wide_store: EventStore, database_url: str
):
    conn = await asyncpg.connect(database_url)
    topic_start = await eventlog.head_position(conn)
    slow = ticks(0, uuid.uuid4(), 0, 0, 1)
    fast = ticks(1, uuid.uuid4(), 0, 0, 1)
    try:
        with open_append(wide_store, *slow):
            # No table lock: the second save commits while the first is still open.
            await asyncio.wait_for(asyncio.to_thread(wide_store.append, *fast), timeout=5)
            locks = await conn.fetch(
                "SELECT DISTINCT mode FROM pg_locks"
                " WHERE relation = 'relivchats_events'::regclass AND granted"
            )
            assert {lock["mode"] for lock in locks} <= {"RowExclusiveLock", "AccessShareLock"}
            head = await eventlog.head(conn)
            held = await eventlog.read_rows(conn, topic_start, head.settled, (RaceTicked.TOPIC,), 9)
            assert held == [] and head.waiting, "the reader passed a transaction still open"
        head = await eventlog.head(conn)
        rows = await eventlog.read_rows(conn, topic_start, head.settled, (RaceTicked.TOPIC,), 9)
    finally:
        await conn.close()
    ids = [row["originator_id"] for row in rows]
    # The slow save began first, so it comes first in the log although it committed last.
    assert ids == [slow[0].originator_id, fast[0].originator_id]
