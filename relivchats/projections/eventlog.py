"""Reading the event log and keeping each projection's checkpoint: the projector's SQL.

The log is the eventsourcing library's `relivchats_events` table. Writers append concurrently
(no table lock, `adapters/recorder.py`), so a smaller notification id may commit after a larger
one. Each row records its inserting transaction instead, and the log's order is
(transaction_id, notification_id) over settled transactions only: those below
`pg_snapshot_xmin(pg_current_snapshot())`, the oldest transaction still running anywhere in the
cluster. Every such transaction has committed or rolled back, so no row can ever appear before a
position a reader has passed (architecture.md section 2). The price: one long transaction holds
every reader back (the horizon lag in `/health/projections`).
The checkpoint (`projection_positions.transaction_id, position`) is advanced only together with
the rows it covers, and only if nobody else moved it (optimistic), so two instances or a rebuild
switching tables can never apply a batch twice.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg
from eventsourcing.persistence import StoredEvent

from relivchats.adapters.crypto import master_key_from
from relivchats.adapters.data_keys import DataKeys, fetch_wrapped
from relivchats.adapters.event_decoder import PlainEventDecoder
from relivchats.adapters.eventstore import StableTopicMapper, build_mapper
from relivchats.adapters.personal_fields import owners_sealed_in
from relivchats.domain.events import Event
from relivchats.projections.base import LOG_START, Envelope, LogPosition
from relivchats.settings import get_settings

_mapper = build_mapper()  # no data keys: for streams without personal fields (the ledger)
_mappers_with_keys: dict[str, StableTopicMapper] = {}


class CheckpointMoved(Exception):
    """Another process advanced this projection's checkpoint: reload it and carry on."""


@dataclass(frozen=True)
class Checkpoint:
    position: LogPosition
    error: str | None


@dataclass(frozen=True)
class Head:
    """The last settled event, and whether committed events wait behind the horizon."""

    settled: LogPosition
    waiting: bool


def mapper_for(dsn: str) -> StableTopicMapper:
    """A mapper that opens personal fields with the data keys of the database at `dsn`.

    The master key comes from this process's settings (every process of one deployment shares
    `CONTENT_KEY`); one per database, so a process following two databases keeps them apart.
    """
    if dsn not in _mappers_with_keys:
        # Keys come through `decode_all` on the reader's connection; a miss outside it (a key
        # expiring mid-batch) opens a short-lived connection, so no connection is pinned here.
        keys = DataKeys(dsn, master_key_from(get_settings()), keep_connection=False)
        _mappers_with_keys[dsn] = build_mapper(keys)
    return _mappers_with_keys[dsn]


def decode(row: asyncpg.Record, mapper: StableTopicMapper = _mapper) -> Envelope:
    # The columns `read_rows` and `read_stream` select, in their order.
    transaction_id, position, originator_id, version, topic, state, recorded_at = row
    plain = _plain_decoder(mapper)
    event = plain.decode(topic, originator_id, version, state) if plain else None
    if event is None:
        event = mapper.to_domain_event(StoredEvent(originator_id, version, topic, bytes(state)))
        assert isinstance(event, Event), f"{topic} is not a RelivChats event"
    return Envelope(position, event, recorded_at, transaction_id)


@functools.cache
def _plain_decoder(mapper: StableTopicMapper) -> PlainEventDecoder | None:
    return PlainEventDecoder.of(mapper)


async def decode_all(
    conn: asyncpg.Connection, rows: list[asyncpg.Record], mapper: StableTopicMapper = _mapper
) -> list[Envelope]:
    """`decode` for a batch; the data keys its sealed fields need are read first, in one query
    on this connection (the event loop never waits on another one)."""
    keys = mapper.sealer.keys
    if isinstance(keys, DataKeys):
        plain = _plain_decoder(mapper)  # plain classes have no personal fields to seal
        sealable = [row["state"] for row in rows if not (plain and plain.decodes(row["topic"]))]
        wanted = keys.missing(owners_sealed_in(sealable))
        if wanted:
            keys.accept(wanted, await fetch_wrapped(conn, wanted))
    return [decode(row, mapper) for row in rows]


def row_position(row: asyncpg.Record) -> LogPosition:
    return LogPosition(row["transaction_id"], row["notification_id"])


# One statement, so the horizon, the settled head and the waiting rows share one snapshot.
_HEAD = """
SELECT s.transaction_id, s.notification_id,
       EXISTS (SELECT 1 FROM relivchats_events w WHERE w.transaction_id >= h.xmin) AS waiting
FROM (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin) AS h
LEFT JOIN LATERAL (
    SELECT e.transaction_id, e.notification_id FROM relivchats_events e
    WHERE e.transaction_id < h.xmin
    ORDER BY e.transaction_id DESC, e.notification_id DESC LIMIT 1
) AS s ON true
"""


async def head(conn: asyncpg.Connection) -> Head:
    row = await conn.fetchrow(_HEAD)
    assert row is not None
    settled = row_position(row) if row["notification_id"] is not None else LOG_START
    return Head(settled=settled, waiting=row["waiting"])


async def head_position(conn: asyncpg.Connection) -> LogPosition:
    """The last settled event's position: reading up to it never skips one committed later."""
    return (await head(conn)).settled


async def read_rows(
    conn: asyncpg.Connection,
    after: LogPosition,
    upto: LogPosition,
    topics: tuple[str, ...],
    limit: int,
) -> list[asyncpg.Record]:
    """Events with `topics` after `after` up to `upto` (a settled position), in log order."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT transaction_id, notification_id, originator_id, originator_version, topic,"
        " state, recorded_at FROM relivchats_events"
        " WHERE (transaction_id, notification_id) > ($1::xid8, $2)"
        " AND (transaction_id, notification_id) <= ($3::xid8, $4)"
        " AND topic = ANY($5::text[])"
        " ORDER BY transaction_id, notification_id LIMIT $6",
        *after,
        *upto,
        list(topics),
        limit,
    )
    return rows


async def ensure_checkpoint(conn: asyncpg.Connection, name: str) -> Checkpoint:
    await conn.execute(
        "INSERT INTO projection_positions (name) VALUES ($1) ON CONFLICT (name) DO NOTHING", name
    )
    row = await conn.fetchrow(
        "SELECT transaction_id, position, error FROM projection_positions WHERE name = $1", name
    )
    assert row is not None
    return Checkpoint(LogPosition(row["transaction_id"], row["position"]), row["error"])


async def advance_checkpoint(
    conn: asyncpg.Connection,
    name: str,
    expected: LogPosition,
    new: LogPosition,
    last_recorded_at: datetime | None,
) -> None:
    """Move the checkpoint from `expected` to `new`; call first thing in the batch transaction."""
    status = await conn.execute(
        "UPDATE projection_positions SET transaction_id = $4, position = $5,"
        " applied_at = clock_timestamp(),"
        " last_event_recorded_at = coalesce($6, last_event_recorded_at), error = NULL,"
        " failed_position = NULL, failed_topic = NULL, failed_at = NULL,"
        " updated_at = clock_timestamp()"
        " WHERE name = $1 AND transaction_id = $2 AND position = $3",
        name,
        *expected,
        *new,
        last_recorded_at,
    )
    if status != "UPDATE 1":
        raise CheckpointMoved(name)


async def record_failure(
    conn: asyncpg.Connection, name: str, envelope: Envelope | None, error: str
) -> None:
    await conn.execute(
        "UPDATE projection_positions SET error = $2, failed_position = $3, failed_topic = $4,"
        " failed_at = clock_timestamp(), updated_at = clock_timestamp() WHERE name = $1",
        name,
        error,
        envelope.position if envelope else None,
        envelope.event.TOPIC if envelope else None,
    )


async def checkpoint_position(conn: asyncpg.Connection, name: str) -> LogPosition:
    """How far a projection has applied the log (the start if it never ran); read-only."""
    row = await conn.fetchrow(
        "SELECT transaction_id, position FROM projection_positions WHERE name = $1", name
    )
    return LogPosition(row["transaction_id"], row["position"]) if row else LOG_START


async def read_stream(
    conn: asyncpg.Connection, originator_id: UUID, upto: LogPosition
) -> list[Envelope]:
    """One aggregate's events in version order, up to a log position (the auditor's replay)."""
    rows = await conn.fetch(
        "SELECT transaction_id, notification_id, originator_id, originator_version, topic,"
        " state, recorded_at FROM relivchats_events"
        " WHERE originator_id = $1 AND (transaction_id, notification_id) <= ($2::xid8, $3)"
        " ORDER BY originator_version",
        originator_id,
        *upto,
    )
    return [decode(row) for row in rows]


async def originators(conn: asyncpg.Connection, topic: str, upto: LogPosition) -> list[UUID]:
    """Ids of the aggregates whose events with `topic` are in the log up to a position."""
    rows = await conn.fetch(
        "SELECT originator_id FROM relivchats_events"
        " WHERE topic = $1 AND (transaction_id, notification_id) <= ($2::xid8, $3)"
        " ORDER BY transaction_id, notification_id",
        topic,
        *upto,
    )
    return [row["originator_id"] for row in rows]
