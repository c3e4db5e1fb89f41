"""Appends without a global lock: our recorder for the `eventsourcing` library, and the wake-up.

The library's PostgreSQL recorder locks the whole events table (EXCLUSIVE mode) and sends
`NOTIFY` in every insert, so that notification ids become visible in commit order. That
serialised every write of every user (0.27x a row-lock design). Here inserts only insert:
- each row records its transaction (`transaction_id xid8 DEFAULT pg_current_xact_id()`, migration
  007), and readers take only settled transactions in (transaction_id, notification_id) order
  (`projections/eventlog.py`), so a reader never passes a row that commits later;
- uniqueness of (originator_id, originator_version) stays the one concurrency and idempotency
  guarantee: a concurrent insert of the same version waits on the unique index, then fails;
- a save is ONE statement on an autocommit connection: atomic on its own, one round trip
  instead of the library's pipelined BEGIN/INSERT/COMMIT (about 30% less time per save, measured
  on this machine). A save of up to `PREPARED_ROWS` events is an `INSERT ... VALUES` sent
  through libpq directly (`prepared_insert.py`: prepared once per connection, binary parameters,
  the connection borrowed from the pool without the library's context managers); a larger one is
  `INSERT ... SELECT FROM unnest(...)` of four plain arrays (ids, versions, topics, states)
  through psycopg, rendered once, where the library adapted a composite type per event and
  re-rendered its composed SQL per save;
- loading an aggregate runs the library's query rendered once per shape, selecting the three
  columns an event needs (the library re-composed its SQL per load and read every column);
- a pooled connection is not pinged before each save or load (the library's pre-ping was a
  second round trip each time): `check_idle_connection` pings only a connection whose socket has
  something to read while idle, which is how a server's goodbye (restart, terminated backend)
  shows;
- no `NOTIFY` in the append: PostgreSQL serialises the commits of all notifying transactions on
  one lock. `AppendSignal` sends one NOTIFY per interval per process instead, on its own
  connection, after appends ended; the projector also polls, so a lost wake-up only delays it.
"""

from __future__ import annotations

import contextlib
import logging
import select
import threading
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import retry
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg_pool import ConnectionPool

from relivchats.adapters.prepared_insert import PREPARED_ROWS, PreparedInsert

log = logging.getLogger(__name__)

# A burst of appends costs one NOTIFY per interval; the projector is woken at most this late.
SIGNAL_INTERVAL_S = 0.005


class ConcurrentAppendRecorder(PostgresApplicationRecorder):
    """The library's recorder minus the table lock, the per-append NOTIFY and the transaction."""

    def __init__(self, datastore: Any, **kwargs: Any):
        super().__init__(datastore, **kwargs)
        insert = (
            f'INSERT INTO "{datastore.schema}"."{self.events_table_name}"'
            " (originator_id, originator_version, topic, state)"
        )
        self._insert_one = f"{insert} VALUES (%s, %s, %s, %s) RETURNING notification_id"
        self._insert_many = (
            f"{insert} SELECT * FROM unnest(%s::uuid[], %s::bigint[], %s::text[], %s::bytea[])"
            " RETURNING notification_id"
        )
        self._select_stream = (
            "SELECT originator_version, topic, state"
            f' FROM "{datastore.schema}"."{self.events_table_name}" WHERE originator_id = %s'
        )
        self._select_statements: dict[tuple[bool, bool, bool, bool], str] = {}
        self._select_streams = (
            "SELECT originator_id, originator_version, topic, state"
            f' FROM "{datastore.schema}"."{self.events_table_name}"'
            " WHERE originator_id = ANY(%s) ORDER BY originator_id, originator_version"
        )
        self._prepared = PreparedInsert(insert)

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """All events of a save in one INSERT statement; their notification ids in order."""
        if len(stored_events) <= PREPARED_ROWS:
            return self._prepared.insert(self.datastore.pool, stored_events)
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            self._insert_stored_events(curs, stored_events, **kwargs)
            return [row["notification_id"] for row in curs.fetchall()]

    def _insert_stored_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        """One INSERT of the events (no lock, no NOTIFY); its rows answer the notification ids.

        A single event goes as four scalars: adapting lists costs psycopg a scan of each.
        """
        if len(stored_events) == 1:
            (event,) = stored_events
            values = (event.originator_id, event.originator_version, event.topic, event.state)
            curs.execute(self._insert_one, values, prepare=True)
            return
        columns = (
            [event.originator_id for event in stored_events],
            [event.originator_version for event in stored_events],
            [event.topic for event in stored_events],
            [event.state for event in stored_events],
        )
        curs.execute(self._insert_many, columns, prepare=True)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)  # as the library's
    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        """The library's query, rendered once per shape and selecting only what events need."""
        shape = (gt is not None, lte is not None, desc, limit is not None)
        statement = self._select_statements.get(shape) or self._render_select(*shape)
        params = [originator_id, *(p for p in (gt, lte, limit) if p is not None)]
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, params, prepare=True)
            return [
                StoredEvent(
                    originator_id, row["originator_version"], row["topic"], bytes(row["state"])
                )
                for row in curs.fetchall()
            ]

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)  # as select_events
    def select_streams(self, originator_ids: Sequence[UUID]) -> list[StoredEvent]:
        """Every event of several aggregates in one round trip, each aggregate's in version order
        (a batch of commands reads what it needs at once)."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self._select_streams, [list(originator_ids)], prepare=True)
            rows = curs.fetchall()
        return [
            StoredEvent(
                row["originator_id"], row["originator_version"], row["topic"], bytes(row["state"])
            )
            for row in rows
        ]

    def _render_select(self, gt: bool, lte: bool, desc: bool, limit: bool) -> str:
        statement = self._select_stream
        statement += " AND originator_version > %s" if gt else ""
        statement += " AND originator_version <= %s" if lte else ""
        statement += " ORDER BY originator_version" + (" DESC" if desc else " ASC")
        statement += " LIMIT %s" if limit else ""
        self._select_statements[(gt, lte, desc, limit)] = statement
        return statement


def check_idle_connection(conn: psycopg.Connection[Any]) -> None:
    """The pool's check before lending a connection: a round trip only for a suspect one.

    An idle connection of ours has nothing to read. When the server ends it (a restart, an
    administrator's terminate, an idle timeout) it says so before closing, so the socket turns
    readable: only then is the connection pinged (and, failing, replaced by the pool).
    """
    if conn.closed or conn.broken:
        raise psycopg.OperationalError("the pooled connection is closed")
    readable, _, _ = select.select([conn.pgconn.socket], [], [], 0)
    if readable:
        ConnectionPool.check_connection(conn)


class AppendSignal:
    """Coalesced wake-ups: at most one `NOTIFY channel` per interval, from a background thread.

    Called after every append, committed or rolled back: a rolled-back transaction may have held
    readers' horizon back, and its end is worth a look too.
    """

    def __init__(self, conninfo: str, channel: str, interval_s: float = SIGNAL_INTERVAL_S):
        self._conninfo = conninfo
        self._statement = f'NOTIFY "{channel}"'
        self._interval_s = interval_s
        self._pending = threading.Event()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def appended(self) -> None:
        if self._thread is None:
            self._start()
        self._pending.set()

    def close(self) -> None:
        self._closed.set()
        self._pending.set()
        if self._thread is not None:
            self._thread.join(timeout=2)

    def _start(self) -> None:
        with self._start_lock:  # threads of one store race to the first append
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="append-signal", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        conn: psycopg.Connection[Any] | None = None
        try:
            while self._pending.wait() and not self._closed.is_set():
                self._pending.clear()
                conn = self._notify(conn)
                self._closed.wait(self._interval_s)
        finally:
            if conn is not None:
                with contextlib.suppress(psycopg.Error):
                    conn.close()

    def _notify(self, conn: psycopg.Connection[Any] | None) -> psycopg.Connection[Any] | None:
        """Send one NOTIFY; on failure drop the connection (the projector's poll covers it)."""
        try:
            if conn is None or conn.closed:
                conn = psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5)
            conn.execute(self._statement)
            return conn
        except psycopg.Error as error:
            log.warning("append signal failed", extra={"error": repr(error)})
            if conn is not None:
                with contextlib.suppress(psycopg.Error):
                    conn.close()
            return None
