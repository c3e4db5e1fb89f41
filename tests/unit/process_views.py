"""A second "process" on one in-memory event store, for command tests without a database.

A process keeps its own account cache (the cache belongs to the store object), so two views
of one store stand for two processes on one database: each may decide on a stale account.
It also notes which aggregates it loaded, for tests that count reads.
"""

from __future__ import annotations

from uuid import UUID

from relivchats.adapters.memory_eventstore import InMemoryEventStore
from relivchats.domain.events import Event


class Process:
    def __init__(self, store: InMemoryEventStore) -> None:
        self.store = store
        self.command_max_attempts = store.command_max_attempts
        self.loads: list[UUID] = []

    def load(self, aggregate_id: UUID, after: int | None = None) -> list[Event]:
        self.loads.append(aggregate_id)
        return self.store.load(aggregate_id, after)

    def append(self, *events: Event) -> int:
        return self.store.append(*events)

    def head(self) -> int:
        return self.store.head()
