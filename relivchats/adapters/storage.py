"""Storage trouble under one name: the database cannot serve right now, so try again later.

PostgreSQL restarting, a connection dropped, a lock or statement timeout, a serialization
failure, a pool with no connection to spare: the adapters (event store, read pool) retry what
is worth retrying a bounded number of times, then raise `StorageUnavailable`. The API answers
it with 503 and `Retry-After` (api/errors.py); workers retry the task. Anything else a driver
raises (a syntax error, a constraint we did not expect) stays a bug and is not renamed.

Each retry is counted in `relivchats_storage_retries_total`, in the process that retried.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
from eventsourcing.persistence import InterfaceError, OperationalError
from prometheus_client import Counter

T = TypeVar("T")

STORAGE_RETRIES = Counter(
    "relivchats_storage_retries_total",
    "Operations tried again after a transient storage failure",
    ["operation"],
)

# The eventsourcing library turns every psycopg connection, timeout, lock and serialization
# failure (and psycopg_pool's PoolTimeout) into one of these two.
EVENT_STORE_TRANSIENT: tuple[type[Exception], ...] = (InterfaceError, OperationalError)

# asyncpg: failures worth one more try on a fresh connection (the server restarted, refused,
# or was busy). A timeout already spent the caller's time, so it is not tried again.
READ_RETRYABLE: tuple[type[BaseException], ...] = (
    OSError,  # refused or reset: the server is down or restarting
    asyncpg.PostgresConnectionError,  # class 08: the connection broke
    asyncpg.CannotConnectNowError,  # 57P03: starting up or shutting down
    asyncpg.AdminShutdownError,  # 57P01: terminated by a restart
    asyncpg.CrashShutdownError,  # 57P02
    asyncpg.TooManyConnectionsError,  # 53300
    asyncpg.TransactionRollbackError,  # class 40: serialization failure, deadlock
    # A connection the server closed during a shutdown leaves asyncpg's protocol in a state
    # it refuses ("cannot switch to state 12"): seen on every restart under load.
    asyncpg.InternalClientError,
)
# Not tried again. TimeoutError is an OSError, so it is told apart before the retryable ones.
READ_NOT_RETRIED: tuple[type[BaseException], ...] = (
    TimeoutError,  # no pooled connection in time, or a command timeout
    asyncpg.QueryCanceledError,  # 57014: statement timeout
    asyncpg.LockNotAvailableError,  # 55P03: lock timeout
    asyncpg.InsufficientResourcesError,  # class 53: disk full, out of memory
)


class StorageUnavailable(Exception):
    """The database could not serve this operation now; the same request may succeed later."""

    def __init__(self, operation: str, cause: BaseException):
        super().__init__(f"storage unavailable during {operation}: {type(cause).__name__}")
        self.operation = operation


def is_read_failure(error: BaseException) -> bool:
    """Whether an asyncpg error means storage trouble (else it is a bug, and stays one)."""
    return isinstance(error, (*READ_NOT_RETRIED, *READ_RETRYABLE))


def backoff_s(failures: int, base_s: float, cap_s: float = float("inf")) -> float:
    """Doubling (up to `cap_s`) with full jitter, so clients cut off together do not come back
    together."""
    ceiling = min(cap_s, base_s * 2 ** (failures - 1))
    return random.uniform(0, ceiling)  # noqa: S311 (jitter, not security)


def retrying_sync(
    operation: str,
    call: Callable[[], T],
    *,
    attempts: int,
    base_s: float,
    retryable: tuple[type[BaseException], ...] = EVENT_STORE_TRANSIENT,
) -> T:
    """`call()`, tried up to `attempts` times while it fails with a `retryable` error."""
    for failures in range(1, attempts + 1):
        try:
            return call()
        except retryable:
            if failures == attempts:
                raise
            STORAGE_RETRIES.labels(operation).inc()
            time.sleep(backoff_s(failures, base_s))
    raise AssertionError("unreachable: the last attempt returns or raises")


async def retrying(
    operation: str,
    call: Callable[[], Awaitable[T]],
    *,
    attempts: int,
    base_s: float,
) -> T:
    """The asyncpg twin of `retrying_sync`; what still fails becomes `StorageUnavailable`."""
    for failures in range(1, attempts + 1):
        try:
            return await call()
        except READ_NOT_RETRIED as error:
            raise StorageUnavailable(operation, error) from error
        except READ_RETRYABLE as error:
            if failures == attempts:
                raise StorageUnavailable(operation, error) from error
            STORAGE_RETRIES.labels(operation).inc()
            await asyncio.sleep(backoff_s(failures, base_s))
    raise AssertionError("unreachable: the last attempt returns or raises")
