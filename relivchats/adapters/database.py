"""The API's asyncpg pool for reads, with the numbers `/health/db-pool` and `/metrics` report."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg


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
            server_settings={
                "application_name": "relivchats-api",
                "statement_timeout": str(statement_timeout_ms),
            },
        )
        return cls(pool)

    @contextlib.asynccontextmanager
    async def connection(self, acquire_timeout: float = 5) -> AsyncIterator[asyncpg.Connection]:
        self.waiting += 1
        try:
            conn = await self.pool.acquire(timeout=acquire_timeout)
        finally:
            self.waiting -= 1
        self.in_use += 1
        try:
            yield conn
        finally:
            self.in_use -= 1
            await self.pool.release(conn)

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        async with self.connection() as conn:
            return list(await conn.fetch(query, *args))

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        async with self.connection() as conn:
            return await conn.fetchrow(query, *args)

    async def fetchval(self, query: str, *args: Any) -> Any:
        async with self.connection() as conn:
            return await conn.fetchval(query, *args)

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
