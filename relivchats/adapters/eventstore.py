"""The event store: the `eventsourcing` library on PostgreSQL, behind a small sync and async facade.

Facts that shape this module (architecture.md section 2):
- one application, pinned name "RelivChats" -> one table `relivchats_events`, one global order;
- `CREATE_TABLE=no`: our migrations own the schema;
- saves run concurrently, without a table lock (`recorder.py`): readers follow the log in
  (transaction id, notification id) order over settled transactions (`projections/eventlog.py`);
- the library is synchronous: the API reaches it through a bounded thread pool;
- storage trouble leaves it as `StorageUnavailable` (adapters/storage.py), a version conflict
  as `VersionConflict`: callers never see the library's or psycopg's exception classes.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import (
    IntegrityError,
    JSONTranscoder,
    Mapper,
    StoredEvent,
)
from eventsourcing.postgres import PostgresFactory
from prometheus_client import Histogram

import relivchats.domain  # noqa: F401  (imports every event class, registering its topic)
from relivchats.adapters.data_keys import DataKeys, KeyRing
from relivchats.adapters.mapper import TopicMapper
from relivchats.adapters.personal_fields import FieldSealer, personal_fields_of
from relivchats.adapters.recorder import (
    AppendSignal,
    ConcurrentAppendRecorder,
    check_idle_connection,
)
from relivchats.adapters.storage import EVENT_STORE_TRANSIENT, StorageUnavailable, retrying_sync
from relivchats.adapters.transcoder import OrjsonTranscoder
from relivchats.domain.events import Event
from relivchats.settings import Settings

THREAD_QUEUE_WAIT = Histogram(
    "relivchats_eventstore_queue_wait_seconds",
    "Time a command waited for an event store thread (and its connection) in the API",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)

APPLICATION_NAME = "RelivChats"
EVENTS_TABLE = "relivchats_events"
# The library retries a lock timeout ten times by default (a 1 s timeout surfaced after 11.8 s);
# a save that waits that long on a concurrent save of the same version should fail fast instead.
INSERT_ATTEMPTS = 3

# Our key in the library's environment: libpq options for every event store session.
SESSION_OPTIONS = "POSTGRES_SESSION_OPTIONS"

VersionConflict = IntegrityError
T = TypeVar("T")
P = ParamSpec("P")


class StableTopicMapper(TopicMapper):
    """Writes each event's declared TOPIC instead of its module path (adapters/mapper.py), and
    seals its personal fields with the owner's data key (adapters/personal_fields.py)."""

    def __init__(self, transcoder: JSONTranscoder, sealer: FieldSealer):
        super().__init__(transcoder=transcoder)
        self.sealer = sealer

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        event_class = type(domain_event)
        if personal_fields_of(event_class) is not None:
            state = self.sealer.seal(
                event_class,
                vars(domain_event),
                domain_event.originator_id,
                domain_event.originator_version,
            )
            domain_event = object.__new__(event_class)
            object.__setattr__(domain_event, "__dict__", state)
        return super().to_stored_event(domain_event)  # TopicMapper writes the class's TOPIC

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        event = super().to_domain_event(stored_event)
        self.sealer.open(
            type(event), vars(event), event.originator_id, stored_event.originator_version
        )
        return event


class BoundedRetryRecorder(ConcurrentAppendRecorder):
    """The library's insert with our bounded, counted retry instead of its ten silent ones.

    A retried insert whose first try did commit (the connection broke after the commit) meets
    its own rows as a version conflict, so the command reloads and finds its work done.
    """

    def insert_events(self, stored_events: Any, **kwargs: Any) -> Any:
        insert = ConcurrentAppendRecorder.insert_events
        return retrying_sync(
            "append",
            lambda: insert(self, stored_events, **kwargs),
            attempts=INSERT_ATTEMPTS,
            base_s=0.2,
        )


class SessionTimeoutsFactory(PostgresFactory):
    """The library's factory, with our session options given to its pool before it opens.

    Building the application opens the pool (to register the library's types), so options set
    on the pool afterwards would miss its first connections: they would wait on locks forever.
    The pool checks a connection before lending it with `check_idle_connection` (a round trip
    only when the connection looks dead) instead of the library's ping before every save.
    """

    def __init__(self, env: Any):
        super().__init__(env)
        pool = self.datastore.pool
        assert isinstance(pool.kwargs, dict)  # the library passes a plain dict
        pool.kwargs["options"] = self.env.get(SESSION_OPTIONS, "")
        # psycopg_pool takes its check only in the constructor, which the library calls.
        pool._check = check_idle_connection


def build_transcoder() -> JSONTranscoder:
    transcoder = OrjsonTranscoder()
    Application.register_transcodings(None, transcoder)  # type: ignore[arg-type]
    return transcoder


def build_mapper(keys: KeyRing | None = None) -> StableTopicMapper:
    """The mapper used by writers and by the projector to decode stored events.

    Without data keys it reads and writes every event but those with sealed personal fields.
    """
    return StableTopicMapper(build_transcoder(), FieldSealer(keys))


class RelivChatsApplication(Application[UUID]):
    name = APPLICATION_NAME

    def __init__(self, env: dict[str, str], keys: KeyRing):
        self.data_keys = keys  # before the library builds the mapper in its constructor
        super().__init__(env=env)

    def construct_mapper(self) -> Mapper[UUID]:
        return build_mapper(self.data_keys)


class EventStore:
    """Synchronous access: load an aggregate's events, append new ones atomically."""

    def __init__(self, settings: Settings):
        env = settings.eventstore_env()
        env["APPLICATION_RECORDER_TOPIC"] = f"{__name__}:BoundedRetryRecorder"
        env["PERSISTENCE_MODULE"] = f"{__name__}:SessionTimeoutsFactory"
        # No table lock any more, so the library's SET LOCAL lock_timeout never runs: a save
        # waiting on a lock (a concurrent save of the same version) is bounded per session.
        env[SESSION_OPTIONS] = (
            f"-c statement_timeout={settings.eventstore_statement_timeout_ms}"
            f" -c lock_timeout={settings.eventstore_lock_timeout_s * 1000}"
        )
        self.data_keys = DataKeys.from_settings(settings)
        self._app = RelivChatsApplication(env, self.data_keys)
        self._mapper = self._app.mapper
        self._recorder: BoundedRetryRecorder = self._app.recorder  # type: ignore[assignment]
        datastore = self._app.recorder.datastore  # type: ignore[attr-defined]
        self.data_keys.borrow_connections(datastore.get_connection)  # no extra connection
        self.command_max_attempts = settings.command_max_attempts
        self._signal = AppendSignal(settings.database_url, EVENTS_TABLE)

    def load(self, aggregate_id: UUID, after: int | None = None) -> list[Event]:
        """The aggregate's events in version order; with `after`, only those past that version."""
        with storage_failures("load"):
            return list(self._app.events.get(aggregate_id, gt=after))  # type: ignore[arg-type]

    def load_many(self, aggregate_ids: Collection[UUID]) -> dict[UUID, list[Event]]:
        """Several aggregates' events in one round trip: id -> events in version order (an
        aggregate without events is absent)."""
        with storage_failures("load"):
            stored = self._recorder.select_streams(list(aggregate_ids))
        streams: dict[UUID, list[Event]] = {}
        for event in stored:
            domain_event: Event = self._mapper.to_domain_event(event)  # type: ignore[assignment]
            streams.setdefault(domain_event.originator_id, []).append(domain_event)
        return streams

    def append(self, *events: Event) -> int:
        """Append all events in one transaction; returns the log position of the last one.

        Raises VersionConflict when any (aggregate id, version) already exists: nothing is written.
        """
        if not events:
            raise ValueError("nothing to append")
        try:
            with storage_failures("append"):  # mapping too: sealing may look a data key up
                # The library's mapper and recorder, without `save()`'s collecting of aggregates
                # (protocol checks per object) and snapshots, or `put()`'s recordings.
                stored = [self._mapper.to_stored_event(event) for event in events]
                notification_ids: list[int] = self._recorder.insert_events(stored)
        finally:
            self._signal.appended()
        return max(notification_ids)

    def head(self) -> int:
        with storage_failures("head"):
            return self._app.recorder.max_notification_id() or 0

    def close(self) -> None:
        self._signal.close()
        self._app.close()
        self.data_keys.close()


@contextlib.contextmanager
def storage_failures(operation: str) -> Iterator[None]:
    """The library's connection, timeout and lock failures, once its retries gave up."""
    try:
        yield
    except EVENT_STORE_TRANSIENT as error:
        raise StorageUnavailable(operation, error) from error


class AsyncEventStore:
    """The event store for asyncio code: every call runs on a bounded pool of threads.

    The pool has as many threads as the store has connections, so a burst of commands queues
    here instead of blocking the event loop or exhausting PostgreSQL.
    """

    def __init__(self, store: EventStore, threads: int):
        self.store = store
        self.threads = threads
        self.in_flight = 0  # calls handed to the pool and not finished: running or queued
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="eventstore")

    async def run(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`func(*args, **kwargs)` on the pool (commands go through `commands.dispatch`)."""
        loop = asyncio.get_running_loop()
        handed_over = time.perf_counter()
        call = functools.partial(func, *args, **kwargs)

        def timed() -> T:
            THREAD_QUEUE_WAIT.observe(time.perf_counter() - handed_over)
            return call()

        self.in_flight += 1
        try:
            return await loop.run_in_executor(self._executor, timed)
        finally:
            self.in_flight -= 1

    def stats(self) -> dict[str, float]:
        """Threads (one event store connection each) busy, and calls queued for one."""
        busy = min(self.in_flight, self.threads)
        return {
            "threads": self.threads,
            "in_use": busy,
            "queued": self.in_flight - busy,
            "utilisation_percent": round(100 * busy / self.threads, 2),
        }

    async def load(self, aggregate_id: UUID) -> list[Event]:
        return await self.run(self.store.load, aggregate_id)

    async def append(self, *events: Event) -> int:
        return await self.run(self.store.append, *events)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self.store.close()
