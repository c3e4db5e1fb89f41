"""Reading the event log and keeping each projection's checkpoint: the projector's SQL.

The log is the eventsourcing library's `relivchats_events` table. Every writer takes an EXCLUSIVE
table lock, so once a notification id is visible every smaller id is committed or will never
exist: reading up to the visible head never skips an event (architecture.md section 2).
The checkpoint (`projection_positions.position`) is advanced only together with the rows it
covers, and only if nobody else moved it (optimistic), so two instances or a rebuild switching
tables can never apply a batch twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg
from eventsourcing.persistence import StoredEvent

from relivchats.adapters.eventstore import build_mapper
from relivchats.domain.events import Event
from relivchats.projections.base import Envelope

_mapper = build_mapper()


class CheckpointMoved(Exception):
    """Another process advanced this projection's checkpoint: reload it and carry on."""


@dataclass(frozen=True)
class Checkpoint:
    position: int
    error: str | None


def decode(row: asyncpg.Record) -> Envelope:
    stored = StoredEvent(
        originator_id=row["originator_id"],
        originator_version=row["originator_version"],
        topic=row["topic"],
        state=bytes(row["state"]),
    )
    event = _mapper.to_domain_event(stored)
    assert isinstance(event, Event), f"{row['topic']} is not a RelivChats event"
    return Envelope(position=row["notification_id"], event=event, recorded_at=row["recorded_at"])


async def head_position(conn: asyncpg.Connection) -> int:
    head: int = await conn.fetchval(
        "SELECT coalesce(max(notification_id), 0) FROM relivchats_events"
    )
    return head


async def read_rows(
    conn: asyncpg.Connection, after: int, upto: int, topics: tuple[str, ...], limit: int
) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT notification_id, originator_id, originator_version, topic, state, recorded_at"
        " FROM relivchats_events"
        " WHERE notification_id > $1 AND notification_id <= $2 AND topic = ANY($3::text[])"
        " ORDER BY notification_id LIMIT $4",
        after,
        upto,
        list(topics),
        limit,
    )
    return rows


async def ensure_checkpoint(conn: asyncpg.Connection, name: str) -> Checkpoint:
    await conn.execute(
        "INSERT INTO projection_positions (name) VALUES ($1) ON CONFLICT (name) DO NOTHING", name
    )
    row = await conn.fetchrow(
        "SELECT position, error FROM projection_positions WHERE name = $1", name
    )
    assert row is not None
    return Checkpoint(position=row["position"], error=row["error"])


async def advance_checkpoint(
    conn: asyncpg.Connection,
    name: str,
    expected: int,
    new: int,
    last_recorded_at: datetime | None,
) -> None:
    """Move the checkpoint from `expected` to `new`; call first thing in the batch transaction."""
    status = await conn.execute(
        "UPDATE projection_positions SET position = $3, applied_at = clock_timestamp(),"
        " last_event_recorded_at = coalesce($4, last_event_recorded_at), error = NULL,"
        " failed_position = NULL, failed_topic = NULL, failed_at = NULL,"
        " updated_at = clock_timestamp()"
        " WHERE name = $1 AND position = $2",
        name,
        expected,
        new,
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


async def checkpoint_position(conn: asyncpg.Connection, name: str) -> int:
    """How far a projection has applied the log (0 if it never ran); read-only."""
    position: int | None = await conn.fetchval(
        "SELECT position FROM projection_positions WHERE name = $1", name
    )
    return position or 0


async def read_stream(conn: asyncpg.Connection, originator_id: UUID, upto: int) -> list[Envelope]:
    """One aggregate's events in version order, up to a log position (the auditor's replay)."""
    rows = await conn.fetch(
        "SELECT notification_id, originator_id, originator_version, topic, state, recorded_at"
        " FROM relivchats_events WHERE originator_id = $1 AND notification_id <= $2"
        " ORDER BY originator_version",
        originator_id,
        upto,
    )
    return [decode(row) for row in rows]


async def originators(conn: asyncpg.Connection, topic: str, upto: int) -> list[UUID]:
    """Ids of the aggregates whose events with `topic` are in the log up to a position."""
    rows = await conn.fetch(
        "SELECT originator_id FROM relivchats_events WHERE topic = $1 AND notification_id <= $2"
        " ORDER BY notification_id",
        topic,
        upto,
    )
    return [row["originator_id"] for row in rows]
