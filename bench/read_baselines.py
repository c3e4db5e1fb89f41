"""Baselines for the read benchmarks: the same query served as plainly as FastAPI allows.

`asyncpg_app`: `async def` + an asyncpg pool, no auth, no middleware. `sync_app`: the same as a
sync `def` with a psycopg pool (FastAPI runs it in its thread pool). Both read DATABASE_URL and
open pools of the API's default size (10) at start-up.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

import asyncpg
from fastapi import FastAPI
from psycopg_pool import ConnectionPool

from relivchats.projections import chat_queries
from relivchats.projections.ledger_queries import transactions_page

BALANCE_SQL = "SELECT balance, held, available, flagged FROM credit_balances WHERE account_id = $1"
POOL_SIZE = 10


@asynccontextmanager
async def _asyncpg_pool(app: FastAPI) -> AsyncIterator[None]:
    app.state.pool = await asyncpg.create_pool(os.environ["DATABASE_URL"], max_size=POOL_SIZE)
    yield
    await app.state.pool.close()


asyncpg_app = FastAPI(lifespan=_asyncpg_pool)


@asyncpg_app.get("/health")
async def asyncpg_health() -> dict[str, str]:
    return {"status": "ok"}


@asyncpg_app.get("/balance/{account_id}")
async def asyncpg_balance(account_id: UUID) -> dict[str, Any]:
    return dict(await asyncpg_app.state.pool.fetchrow(BALANCE_SQL, account_id))


@asyncpg_app.get("/transactions/{account_id}")
async def asyncpg_transactions(account_id: UUID) -> dict[str, Any]:
    page = await transactions_page(asyncpg_app.state.pool, account_id, 50, 0)
    assert page is not None
    return {"items": [dict(row) for row in page.rows], "total": page.total}


@asyncpg_app.get("/chats/{owner_id}")
async def asyncpg_chats(owner_id: UUID) -> dict[str, Any]:
    rows = await chat_queries.chats_of(asyncpg_app.state.pool, owner_id, None, 50)
    return {"items": [dict(row) for row in rows]}


@asynccontextmanager
async def _psycopg_pool(app: FastAPI) -> AsyncIterator[None]:
    pool = ConnectionPool(os.environ["DATABASE_URL"], min_size=POOL_SIZE, max_size=POOL_SIZE)
    app.state.pool = pool
    yield
    pool.close()


sync_app = FastAPI(lifespan=_psycopg_pool)


@sync_app.get("/health")
def sync_health() -> dict[str, str]:
    return {"status": "ok"}


@sync_app.get("/balance/{account_id}")
def sync_balance(account_id: UUID) -> dict[str, Any]:
    with sync_app.state.pool.connection() as conn:
        row = conn.execute(BALANCE_SQL.replace("$1", "%s"), (account_id,)).fetchone()
    balance, held, available, flagged = row
    return {"balance": balance, "held": held, "available": available, "flagged": flagged}
