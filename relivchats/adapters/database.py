"""The API's asyncpg pool for reads, with the numbers `/health/db-pool` and `/metrics` report."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg

ACQUIRE_TIMEOUT_S = 5.0


class ReadConnection(asyncpg.Connection):  # type: ignore[misc]
    """A pooled connection returned without asyncpg's reset round trip.

    asyncpg resets a released connection with a query (UNLISTEN, RESET ALL, advisory unlock,
    CLOSE ALL): one more round trip per request. API reads never change session state — no SET,
    LISTEN, advisory lock or cursor outlives a request — so there is nothing to reset. An open
    transaction is still rolled back by asyncpg on release; that does not depend on this query.
    """

    def get_reset_query(self) -> str:
        return ""


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
            conn = await self.pool.acquire(timeout=acquire_timeout)
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
        conn = await self._acquire(acquire_timeout)
        try:
            yield conn
        finally:
            await self._release(conn)

    # The one-statement helpers skip the context-manager machinery: they serve the hottest reads.
    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        conn = await self._acquire(ACQUIRE_TIMEOUT_S)
        try:
            return list(await conn.fetch(query, *args))
        finally:
            await self._release(conn)

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        conn = await self._acquire(ACQUIRE_TIMEOUT_S)
        try:
            return await conn.fetchrow(query, *args)
        finally:
            await self._release(conn)

    async def fetchval(self, query: str, *args: Any) -> Any:
        conn = await self._acquire(ACQUIRE_TIMEOUT_S)
        try:
            return await conn.fetchval(query, *args)
        finally:
            await self._release(conn)

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
