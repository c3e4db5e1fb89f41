"""A save's INSERT sent through libpq directly: psycopg's connection, without its cursor.

Why: appends from one process's threads are limited by the CPU each save spends holding the
GIL, and psycopg's cursor was a good part of it (query conversion, parameter dumping, prepared
statement bookkeeping, result and row objects): 34 µs of CPU per one-row insert, 11 µs this way
(measured on this machine, same connection and statement, commits not waited for).

What it sends: `INSERT ... VALUES ($1, $2, $3, $4)[, ($5, ...)] RETURNING notification_id`,
prepared once per connection and row count (saves of 1 to `PREPARED_ROWS` events; larger ones
keep the recorder's `unnest` statement), parameters and results in binary: an id as its 16
bytes, a version as 8, the topic as UTF-8, the state as stored. libpq releases the GIL while
it waits. A failed statement raises psycopg's class for its SQLSTATE (a broken connection,
`OperationalError`), so the library and `adapters/storage.py` name it as before: a taken
(aggregate, version) is a version conflict, a timeout or a lost server is storage trouble.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing import persistence
from eventsourcing.persistence import PersistenceError, StoredEvent
from psycopg import pq
from psycopg_pool import ConnectionPool

PREPARED_ROWS = 8  # the largest save sent this way: one prepared statement per row count

_COLUMN_TYPES = (2950, 20, 25, 17)  # uuid, int8, text, bytea (PostgreSQL type oids)
_BINARY = 1
_DUPLICATE_STATEMENT = "42P05"
_UNKNOWN_STATEMENT = "26000"


class PreparedInsert:
    def __init__(self, insert: str) -> None:
        """`insert`: `INSERT INTO table (originator_id, originator_version, topic, state)`."""
        self._insert = insert
        # Row counts prepared on each connection (a replaced connection starts afresh).
        self._prepared: weakref.WeakKeyDictionary[psycopg.Connection[Any], set[int]] = (
            weakref.WeakKeyDictionary()
        )

    def insert(self, pool: ConnectionPool[Any], events: Sequence[StoredEvent]) -> list[int]:
        """Insert the events in one statement on a connection of `pool` (autocommit: atomic on
        its own). psycopg's errors leave as the library's, as its `get_connection` renames them
        (its context managers cost more than this statement's own Python)."""
        try:
            conn = pool.getconn()
            try:
                return self._insert_on(conn, events)
            finally:
                pool.putconn(conn)
        except psycopg.Error as error:
            raise _library_error(error) from error

    def _insert_on(self, conn: psycopg.Connection[Any], events: Sequence[StoredEvent]) -> list[int]:
        rows = len(events)
        params: list[bytes] = []
        for event in events:
            params += (
                _uuid_bytes(event.originator_id),
                event.originator_version.to_bytes(8, "big", signed=True),
                event.topic.encode(),
                bytes(event.state),
            )
        result = self._execute(conn, rows, params)
        if result.status != pq.ExecStatus.TUPLES_OK and _sqlstate(result) == _UNKNOWN_STATEMENT:
            # psycopg sends DEALLOCATE ALL after a ROLLBACK on the connection: prepare again.
            self._prepared.pop(conn, None)
            result = self._execute(conn, rows, params)
        if result.status != pq.ExecStatus.TUPLES_OK:
            raise _error(conn, result)
        return [_int8(result.get_value(row, 0)) for row in range(rows)]

    def _execute(
        self, conn: psycopg.Connection[Any], rows: int, params: list[bytes]
    ) -> pq.abc.PGresult:
        name = self._statement(conn, rows)
        return conn.pgconn.exec_prepared(name, params, [_BINARY] * len(params), _BINARY)

    def _statement(self, conn: psycopg.Connection[Any], rows: int) -> bytes:
        name = f"relivchats_append_{rows}".encode()
        prepared = self._prepared.setdefault(conn, set())
        if rows not in prepared:
            values = ", ".join(
                f"(${4 * row + 1}, ${4 * row + 2}, ${4 * row + 3}, ${4 * row + 4})"
                for row in range(rows)
            )
            sql = f"{self._insert} VALUES {values} RETURNING notification_id"
            result = conn.pgconn.prepare(name, sql.encode(), list(_COLUMN_TYPES) * rows)
            if result.status != pq.ExecStatus.COMMAND_OK and _sqlstate(result) != (
                _DUPLICATE_STATEMENT
            ):
                raise _error(conn, result)
            prepared.add(rows)
        return name


# The library's names for psycopg's errors, most specific first (eventsourcing.postgres).
_LIBRARY_ERRORS: tuple[tuple[type[psycopg.Error], type[PersistenceError]], ...] = (
    (psycopg.InterfaceError, persistence.InterfaceError),
    (psycopg.OperationalError, persistence.OperationalError),
    (psycopg.DataError, persistence.DataError),
    (psycopg.IntegrityError, persistence.IntegrityError),
    (psycopg.InternalError, persistence.InternalError),
    (psycopg.ProgrammingError, persistence.ProgrammingError),
    (psycopg.NotSupportedError, persistence.NotSupportedError),
    (psycopg.DatabaseError, persistence.DatabaseError),
)


def _library_error(error: psycopg.Error) -> PersistenceError:
    for theirs, ours in _LIBRARY_ERRORS:
        if isinstance(error, theirs):
            return ours(str(error))
    return PersistenceError(str(error))


def _uuid_bytes(originator_id: UUID | str) -> bytes:
    return (originator_id if isinstance(originator_id, UUID) else UUID(originator_id)).bytes


def _int8(value: bytes | None) -> int:
    assert value is not None, "notification_id is never null"
    return int.from_bytes(value, "big", signed=True)


def _sqlstate(result: pq.abc.PGresult) -> str:
    return (result.error_field(pq.DiagnosticField.SQLSTATE) or b"").decode()


def _error(conn: psycopg.Connection[Any], result: pq.abc.PGresult) -> psycopg.Error:
    """psycopg's exception for a failed statement, as its cursor would have raised it."""
    if conn.pgconn.status == pq.ConnStatus.BAD or not _sqlstate(result):
        message = result.get_error_message() or "the connection to the server was lost"
        return psycopg.OperationalError(message)
    return psycopg.errors.error_from_result(result)
