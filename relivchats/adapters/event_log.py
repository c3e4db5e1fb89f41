"""What commands need of an event store: load one aggregate's events, append atomically, the head.

Two implementations: `eventstore.EventStore` (PostgreSQL, production) and
`memory_eventstore.InMemoryEventStore` (the library's in-memory recorder, for command tests
that need no database). Both raise `VersionConflict` when an (aggregate, version) is taken.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol
from uuid import UUID

from relivchats.domain.events import Event


class EventLog(Protocol):
    command_max_attempts: int

    def load(self, aggregate_id: UUID, after: int | None = None) -> list[Event]:
        """The aggregate's events in version order; with `after`, only those past it."""
        ...

    def load_many(self, aggregate_ids: Collection[UUID]) -> dict[UUID, list[Event]]:
        """Several aggregates' events at once (one round trip): id -> events, none -> absent."""
        ...

    def append(self, *events: Event) -> int:
        """All events in one atomic save; the log position of the last one."""
        ...

    def head(self) -> int:
        """The position of the newest event in the log (0 when it is empty)."""
        ...
