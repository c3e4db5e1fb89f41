"""Issue 11: the tail stays gap-safe under any interleaving of concurrent transactions.

Hypothesis draws programs over a few concurrent transactions: insert events (which opens the
transaction and takes its id on the first insert), commit, roll back, and let the reader tail, in
any order. The reader uses the projector's own SQL. After every step it must have seen only
committed events, each once, in (transaction id, notification id) order; at the end, every
committed event.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import asyncpg
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relivchats.projections import eventlog
from relivchats.projections.base import LogPosition

TRANSACTIONS = 4

Step = tuple[str, int]
steps = st.lists(
    st.tuples(
        st.sampled_from(["insert", "insert", "commit", "rollback", "tail"]), st.integers(0, 3)
    ),
    min_size=1,
    max_size=40,
)


@dataclass
class Tail:
    """The reader: its position and what it has seen, by originator id."""

    loop: asyncio.AbstractEventLoop
    conn: asyncpg.Connection
    topic: str
    position: LogPosition
    seen: list[tuple[LogPosition, uuid.UUID]] = field(default_factory=list)

    def follow(self) -> bool:
        """Read up to the settled head; True while committed events still wait behind it."""
        return self.loop.run_until_complete(self._follow())

    async def _follow(self) -> bool:
        head = await eventlog.head(self.conn)
        # Small batches, so the reader's own position moves between reads.
        while rows := await eventlog.read_rows(
            self.conn, self.position, head.settled, (self.topic,), 3
        ):
            self.seen.extend((eventlog.row_position(r), r["originator_id"]) for r in rows)
            self.position = eventlog.row_position(rows[-1])
        self.position = max(self.position, head.settled)
        return head.waiting


@dataclass
class Writers:
    """TRANSACTIONS connections, each with at most one open transaction."""

    connections: list[psycopg.Connection[tuple[object, ...]]]
    topic: str
    open: dict[int, list[uuid.UUID]] = field(default_factory=dict)
    committed: set[uuid.UUID] = field(default_factory=set)
    rolled_back: set[uuid.UUID] = field(default_factory=set)

    def insert(self, slot: int) -> None:
        event_id = uuid.uuid4()  # one-event aggregates: the tail, not versions, is under test
        self.connections[slot].execute(
            "INSERT INTO relivchats_events (originator_id, originator_version, topic, state)"
            " VALUES (%s, 1, %s, %s)",
            (event_id, self.topic, b"{}"),
        )
        self.open.setdefault(slot, []).append(event_id)

    def end(self, slot: int, commit: bool) -> None:
        if commit:
            self.connections[slot].commit()
        else:
            self.connections[slot].rollback()
        (self.committed if commit else self.rolled_back).update(self.open.pop(slot, []))


@pytest.fixture(scope="module")
def connections(database_url: str) -> Iterator[list[psycopg.Connection[tuple[object, ...]]]]:
    conns = [psycopg.connect(database_url) for _ in range(TRANSACTIONS)]
    yield conns
    for conn in conns:
        conn.close()


@pytest.fixture(scope="module")
def reader(database_url: str) -> Iterator[tuple[asyncio.AbstractEventLoop, asyncpg.Connection]]:
    loop = asyncio.new_event_loop()
    conn = loop.run_until_complete(asyncpg.connect(database_url))
    yield loop, conn
    loop.run_until_complete(conn.close())
    loop.close()


def check(tail: Tail, writers: Writers) -> None:
    positions = [position for position, _ in tail.seen]
    ids = [event_id for _, event_id in tail.seen]
    assert positions == sorted(positions), "seen out of the pair's order"
    assert len(set(ids)) == len(ids), "an event seen twice"
    assert set(ids) <= writers.committed, "an event seen before its commit, or rolled back"


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(program=steps)
def test_tail_sees_each_committed_event_once_in_order_whatever_the_interleaving(
    program: list[Step], connections, reader
):
    topic = f"tests.Interleaved.{uuid.uuid4()}"
    loop, conn = reader
    tail = Tail(loop, conn, topic, loop.run_until_complete(eventlog.head_position(conn)))
    writers = Writers(connections, topic)
    try:
        for action, slot in program:
            if action == "insert":
                writers.insert(slot)
            elif action == "tail":
                tail.follow()
            elif slot in writers.open:
                writers.end(slot, commit=action == "commit")
            check(tail, writers)
        for slot in list(writers.open):
            writers.end(slot, commit=slot % 2 == 0)
        while tail.follow():  # transactions elsewhere in the cluster may hold the horizon
            loop.run_until_complete(asyncio.sleep(0.01))
    finally:
        for conn_ in connections:
            conn_.rollback()
    check(tail, writers)
    assert {event_id for _, event_id in tail.seen} == writers.committed, "a committed event skipped"
