"""A save's INSERT through libpq directly (adapters/prepared_insert.py) keeps the store's promises.

Saves of every size answer their rows' notification ids in event order and read back as written;
a taken (aggregate, version) is still a version conflict that writes nothing; and a connection
whose prepared statements were dropped under it (psycopg sends DEALLOCATE ALL after a ROLLBACK)
prepares them again instead of failing the save.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from relivchats.adapters.eventstore import EventStore, VersionConflict
from relivchats.adapters.prepared_insert import PREPARED_ROWS
from relivchats.domain.events import Event, next_event_fields
from relivchats.domain.users import UserRegistered
from relivchats.settings import Settings


def registration() -> UserRegistered:
    return UserRegistered(**next_event_fields(uuid.uuid4(), 0))


def history(aggregate_id: uuid.UUID, count: int, after: int = 0) -> list[Event]:
    """`count` events of one aggregate following version `after`."""
    return [UserRegistered(**next_event_fields(aggregate_id, after + n)) for n in range(count)]


def stored_rows(store: EventStore, aggregate_id: uuid.UUID) -> list[tuple[Any, ...]]:
    app: Any = store._app
    with app.recorder.datastore.get_connection() as conn:
        rows = conn.execute(
            "SELECT originator_version, notification_id FROM relivchats_events"
            " WHERE originator_id = %s ORDER BY originator_version",
            (aggregate_id,),
        ).fetchall()
    return [(row["originator_version"], row["notification_id"]) for row in rows]


@pytest.mark.parametrize("size", [1, 2, PREPARED_ROWS, PREPARED_ROWS + 1])
def test_a_save_of_any_size_answers_its_last_rows_position(store: EventStore, size: int) -> None:
    aggregate_id = uuid.uuid4()
    events = history(aggregate_id, size)

    position = store.append(*events)

    rows = stored_rows(store, aggregate_id)
    assert [version for version, _ in rows] == list(range(1, size + 1))
    assert position == rows[-1][1]
    assert [e.originator_version for e in store.load(aggregate_id)] == list(range(1, size + 1))


def test_a_taken_version_is_a_conflict_and_the_save_writes_nothing(store: EventStore) -> None:
    aggregate_id = uuid.uuid4()
    store.append(*history(aggregate_id, 2))

    with pytest.raises(VersionConflict):
        store.append(*history(aggregate_id, 3, after=1))  # versions 2 (taken), 3, 4

    assert [version for version, _ in stored_rows(store, aggregate_id)] == [1, 2]


@pytest.fixture
def one_connection_store(database_url: str) -> Iterator[EventStore]:
    """Every save on the same connection: the one whose statements get dropped."""
    store = EventStore(Settings(database_url=database_url, eventstore_pool_size=1))
    yield store
    store.close()


def test_saves_go_on_after_the_connections_prepared_statements_were_dropped(
    one_connection_store: EventStore,
) -> None:
    store = one_connection_store
    store.append(registration())
    store.append(*history(uuid.uuid4(), 2))
    app: Any = store._app
    with app.recorder.datastore.get_connection() as conn:
        conn.execute("DEALLOCATE ALL")

    store.append(registration())
    store.append(*history(uuid.uuid4(), 2))
