"""How far each projection has got, and why it stopped if it did: for health, metrics, the CLI."""

from __future__ import annotations

from dataclasses import dataclass
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


async def projection_statuses(conn: asyncpg.Connection, names: list[str]) -> list[ProjectionStatus]:
    head = await head_position(conn)
    rows = await conn.fetch(
        "SELECT name, position, applied_at, error, failed_position, failed_topic, failed_at,"
        " (SELECT e.recorded_at FROM relivchats_events e WHERE e.notification_id > p.position"
        "  ORDER BY e.notification_id LIMIT 1) AS oldest_unapplied"
        " FROM projection_positions p WHERE name = ANY($1::text[])",
        names,
    )
    by_name = {row["name"]: row for row in rows}
    now = datetime.now(tz=UTC)
    return [_status(name, by_name.get(name), head, now) for name in names]


def _status(name: str, row: asyncpg.Record | None, head: int, now: datetime) -> ProjectionStatus:
    position = row["position"] if row else 0
    oldest = row["oldest_unapplied"] if row else None
    return ProjectionStatus(
        name=name,
        position=position,
        head=head,
        lag_events=max(head - position, 0),
        lag_seconds=round((now - oldest).total_seconds(), 3) if oldest else 0.0,
        applied_at=row["applied_at"] if row else None,
        error=row["error"] if row else None,
        failed_position=row["failed_position"] if row else None,
        failed_topic=row["failed_topic"] if row else None,
        failed_at=row["failed_at"] if row else None,
    )


async def slowest_position(conn: asyncpg.Connection, names: list[str]) -> int:
    """The log position every named projection has reached (0 if one has not started)."""
    position: int = await conn.fetchval(
        "SELECT CASE WHEN count(*) = cardinality($1::text[]) THEN min(position) ELSE 0 END"
        " FROM projection_positions WHERE name = ANY($1::text[])",
        names,
    )
    return position
