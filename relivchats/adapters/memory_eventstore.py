"""The event store in memory: the library's POPO recorder behind the `EventLog` interface.

Events go through the same mapper and transcoder as in PostgreSQL (so an event that cannot be
stored fails here too), saves are atomic, and a taken (aggregate, version) is a
`VersionConflict`. What it cannot show is concurrency between processes: races, locks and the
store's own failures are tested against PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Collection
from uuid import UUID

from relivchats.adapters.data_keys import InMemoryDataKeys
from relivchats.adapters.eventstore import RelivChatsApplication
from relivchats.domain.events import Event

DEFAULT_MAX_ATTEMPTS = 8  # as settings.command_max_attempts


class InMemoryEventStore:
    def __init__(self, command_max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> None:
        self.data_keys = InMemoryDataKeys()
        self._app = RelivChatsApplication(
            {"PERSISTENCE_MODULE": "eventsourcing.popo"}, self.data_keys
        )
        self.command_max_attempts = command_max_attempts
        self.appends = 0  # saves that wrote, for tests that count round trips

    def load(self, aggregate_id: UUID, after: int | None = None) -> list[Event]:
        return list(self._app.events.get(aggregate_id, gt=after))  # type: ignore[arg-type]

    def load_many(self, aggregate_ids: Collection[UUID]) -> dict[UUID, list[Event]]:
        streams = {aggregate_id: self.load(aggregate_id) for aggregate_id in aggregate_ids}
        return {aggregate_id: events for aggregate_id, events in streams.items() if events}

    def append(self, *events: Event) -> int:
        if not events:
            raise ValueError("nothing to append")
        recordings = self._app.save(*events)
        self.appends += 1
        return max(recording.notification.id for recording in recordings)

    def head(self) -> int:
        return self._app.recorder.max_notification_id() or 0

    def close(self) -> None:
        self._app.close()
