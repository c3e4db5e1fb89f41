"""How far each projection has got, and why it stopped if it did: for health, metrics, the CLI.

Positions shown are notification ids (what writes answer); a projection's checkpoint is the pair
(transaction id, notification id), and the lag counts the committed events after it. The horizon
is the oldest transaction still running in the cluster: committed events behind it wait, for
every projection alike, until it ends (`eventlog.py`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import asyncpg

from relivchats.projections.eventlog import head_position


@dataclass(frozen=True)
class ProjectionStatus:
    name: str
    position: int
    head: int
    lag_events: int
    lag_seconds: float
    applied_at: datetime | None
    error: str | None
    failed_position: int | None
    failed_topic: str | None
    failed_at: datetime | None

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "position": self.position,
            "head": self.head,
            "lag_events": self.lag_events,
            "lag_seconds": self.lag_seconds,
            "applied_at": self.applied_at.isoformat() if self.applied_at else None,
            "last_error": None
            if self.error is None
            else {
                "message": self.error,
                "position": self.failed_position,
                "topic": self.failed_topic,
                "at": self.failed_at.isoformat() if self.failed_at else None,
            },
        }


@dataclass(frozen=True)
class HorizonStatus:
    """Committed events no reader may take yet, and the transaction holding them back."""

    waiting_events: int
    waiting_seconds: float
    oldest_transaction_seconds: float

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


async def projection_statuses(conn: asyncpg.Connection, names: list[str]) -> list[ProjectionStatus]:
    head = await head_position(conn)
    rows = await conn.fetch(
        "SELECT name, position, applied_at, error, failed_position, failed_topic, failed_at,"
        " u.lag_events, u.oldest_unapplied"
        " FROM projection_positions p, LATERAL (SELECT count(*) AS lag_events,"
        "  min(e.recorded_at) AS oldest_unapplied FROM relivchats_events e"
        "  WHERE (e.transaction_id, e.notification_id) > (p.transaction_id, p.position)) u"
        " WHERE name = ANY($1::text[])",
        names,
    )
    by_name = {row["name"]: row for row in rows}
    now = datetime.now(tz=UTC)
    unapplied = await _event_count(conn) if len(by_name) < len(names) else (0, None)
    return [
        _status(name, by_name.get(name), head.notification_id, unapplied, now) for name in names
    ]


async def _event_count(conn: asyncpg.Connection) -> tuple[int, datetime | None]:
    """Every event and the oldest one: the lag of a projection that never ran."""
    row = await conn.fetchrow("SELECT count(*), min(recorded_at) FROM relivchats_events")
    assert row is not None
    return row[0], row[1]


def _status(
    name: str,
    row: asyncpg.Record | None,
    head: int,
    never_ran: tuple[int, datetime | None],
    now: datetime,
) -> ProjectionStatus:
    lag_events, oldest = (row["lag_events"], row["oldest_unapplied"]) if row else never_ran
    return ProjectionStatus(
        name=name,
        position=row["position"] if row else 0,
        head=head,
        lag_events=lag_events,
        lag_seconds=round((now - oldest).total_seconds(), 3) if oldest else 0.0,
        applied_at=row["applied_at"] if row else None,
        error=row["error"] if row else None,
        failed_position=row["failed_position"] if row else None,
        failed_topic=row["failed_topic"] if row else None,
        failed_at=row["failed_at"] if row else None,
    )


async def horizon_status(conn: asyncpg.Connection) -> HorizonStatus:
    # backend_xid is set only for transactions that wrote: read-only ones hold nothing back.
    # Another role's backends show it only to members of pg_read_all_stats.
    row = await conn.fetchrow(
        "SELECT w.count, extract(epoch FROM clock_timestamp() - w.oldest) AS waiting_s,"
        " (SELECT extract(epoch FROM clock_timestamp() - min(xact_start))"
        "  FROM pg_stat_activity WHERE backend_xid IS NOT NULL"
        "  AND pid <> pg_backend_pid()) AS oldest_s"
        " FROM (SELECT count(*), min(recorded_at) AS oldest FROM relivchats_events"
        "  WHERE transaction_id >= pg_snapshot_xmin(pg_current_snapshot())) AS w"
    )
    assert row is not None
    return HorizonStatus(
        waiting_events=row["count"],
        waiting_seconds=round(float(row["waiting_s"] or 0), 3),
        oldest_transaction_seconds=round(float(row["oldest_s"] or 0), 3),
    )


async def projected(conn: asyncpg.Connection, names: list[str], wanted: int) -> tuple[bool, int]:
    """Whether every named projection has applied the event at position `wanted` (a notification
    id a write answered), and the slowest one's position.

    A position no event holds (a save that rolled back left the gap) is reached once the log has
    passed it: there is nothing to wait for.
    """
    row = await conn.fetchrow(
        "WITH target AS (SELECT transaction_id, notification_id FROM relivchats_events"
        "  WHERE notification_id = $2),"
        " p AS (SELECT transaction_id, position FROM projection_positions"
        "  WHERE name = ANY($1::text[]))"
        " SELECT (SELECT count(*) FROM p) = cardinality($1::text[]) AS all_started,"
        " (SELECT position FROM p ORDER BY transaction_id, position LIMIT 1) AS slowest,"
        " CASE WHEN EXISTS (SELECT 1 FROM target)"
        "  THEN (SELECT bool_and((p.transaction_id, p.position)"
        "   >= (t.transaction_id, t.notification_id)) FROM p, target t)"
        "  ELSE $2 <= (SELECT max(notification_id) FROM relivchats_events) END AS reached",
        names,
        wanted,
    )
    assert row is not None
    started = bool(row["all_started"])
    return started and bool(row["reached"]), row["slowest"] if started else 0
