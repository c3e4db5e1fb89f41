"""The API's asyncpg pool for reads, with the numbers `/health/db-pool` and `/metrics` report.

Storage trouble leaves this module as `StorageUnavailable` (adapters/storage.py). Reads are
idempotent, so a connection refused or broken by a restart is tried again on a fresh one
(`READ_ATTEMPTS`, with backoff); a timeout or an exhausted pool is not, it already took its time.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg

from relivchats.adapters.storage import StorageUnavailable, is_read_failure, retrying

ACQUIRE_TIMEOUT_S = 5.0
# A restart refuses connections for about a second: three tries, ~0.05 + 0.1 s apart, cover a
# dropped connection without holding a request long while the server is really down.
READ_ATTEMPTS = 3
READ_BACKOFF_S = 0.05


class ReadConnection(asyncpg.Connection):  # type: ignore[misc]
    """A pooled connection returned without asyncpg's reset round trip.

    asyncpg resets a released connection with a query (UNLISTEN, RESET ALL, advisory unlock,
    CLOSE ALL): one more round trip per request. API reads never change session state — no SET,
    LISTEN, advisory lock or cursor outlives a request — so there is nothing to reset. An open
    transaction is still rolled back by asyncpg on release; that does not depend on this query.
    """

    def get_reset_query(self) -> str:
        return ""


def _discard(conn: asyncpg.Connection) -> None:
    """Close a connection that failed, so the pool opens a fresh one instead of lending it out.

    asyncpg may already have taken it back (a connection the server closed is released by the
    pool itself), and then there is nothing left to close.
    """
    with contextlib.suppress(asyncpg.InterfaceError):
        conn.terminate()


class ReadPool:
    """An asyncpg pool that counts who is waiting for a connection and who holds one."""

    def __init__(self, pool: asyncpg.Pool):
        self.pool = pool
        self.waiting = 0
        self.in_use = 0

    @classmethod
    async def open(
        cls, dsn: str, *, min_size: int, max_size: int, statement_timeout_ms: int
    ) -> ReadPool:
        pool = await asyncpg.create_pool(
            dsn,
            min_size=min_size,
            max_size=max_size,
            timeout=5,
            command_timeout=statement_timeout_ms / 1000 + 1,
            connection_class=ReadConnection,
            server_settings={
                "application_name": "relivchats-api",
                "statement_timeout": str(statement_timeout_ms),
            },
        )
        return cls(pool)

    async def _acquire(self, acquire_timeout: float) -> asyncpg.Connection:
        self.waiting += 1
        try:
            # A timeout costs a task (asyncio.wait_for) and a timer on every request; only one
            # that may have to wait for a connection needs it (P1). Taking an idle one does not
            # wait (connecting a new one is bounded by the pool's connect timeout).
            timeout = None if self.pool.get_idle_size() else acquire_timeout
            conn = await self.pool.acquire(timeout=timeout)
        finally:
            self.waiting -= 1
        self.in_use += 1
        return conn

    async def _release(self, conn: asyncpg.Connection) -> None:
        self.in_use -= 1
        await self.pool.release(conn)

    @contextlib.asynccontextmanager
    async def connection(
        self, acquire_timeout: float = ACQUIRE_TIMEOUT_S
    ) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection for several statements; only getting it is tried again."""
        conn = await retrying(
            "read",
            lambda: self._acquire(acquire_timeout),
            attempts=READ_ATTEMPTS,
            base_s=READ_BACKOFF_S,
        )
        try:
            yield conn
        except Exception as error:
            if is_read_failure(error):
                _discard(conn)
                raise StorageUnavailable("read", error) from error
            raise
        finally:
            await self._release(conn)

    async def _once(self, method: str, query: str, args: tuple[Any, ...]) -> Any:
        # Skips the context-manager machinery: the one-statement helpers serve the hottest reads.
        conn = await self._acquire(ACQUIRE_TIMEOUT_S)
        try:
            return await getattr(conn, method)(query, *args)
        except Exception as error:
            if is_read_failure(error):
                _discard(conn)
            raise
        finally:
            await self._release(conn)

    async def _statement(self, method: str, query: str, args: tuple[Any, ...]) -> Any:
        return await retrying(
            "read",
            lambda: self._once(method, query, args),
            attempts=READ_ATTEMPTS,
            base_s=READ_BACKOFF_S,
        )

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        return list(await self._statement("fetch", query, args))

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        row: asyncpg.Record | None = await self._statement("fetchrow", query, args)
        return row

    async def fetchval(self, query: str, *args: Any) -> Any:
        return await self._statement("fetchval", query, args)

    def stats(self) -> dict[str, float]:
        size = self.pool.get_size()
        maximum = self.pool.get_max_size()
        return {
            "size": size,
            "max_size": maximum,
            "in_use": self.in_use,
            "idle": self.pool.get_idle_size(),
            "waiting": self.waiting,
            "utilisation_percent": round(100 * self.in_use / maximum, 2) if maximum else 0.0,
        }

    async def close(self) -> None:
        await self.pool.close()
