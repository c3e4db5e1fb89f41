"""Reading the ledger read model (projections/ledger.py): every query on its tables lives here.

Each function is one statement, served by a primary-key or partial index, so the API's balance
and transaction pages cost one round trip whatever the page size (quality.md P1, P2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

import asyncpg


class Queryable(Protocol):
    """An asyncpg connection, or the API's read pool (same `fetch`/`fetchrow` methods)."""

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]: ...

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None: ...


@dataclass(frozen=True)
class Page:
    total: int
    rows: list[asyncpg.Record]


async def balance_of(db: Queryable, account_id: UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await db.fetchrow(
        "SELECT balance, held, available, flagged, version, position"
        " FROM credit_balances WHERE account_id = $1",
        account_id,
    )
    return row


_ENTRY_COLUMNS = (
    "t.version, t.kind, t.amount, t.held_change, t.balance_after, t.held_after,"
    " t.available_after, t.reference_id, t.job_id, t.description, t.occurred_at, t.position"
)

# Versions are dense (1..total, one per event), so an offset is a version bound: an index range
# scan however deep the page, and the total comes from the balance row in the same statement.
_NEWEST_FIRST = f"""
SELECT b.version AS total, {_ENTRY_COLUMNS}
FROM credit_balances b
LEFT JOIN LATERAL (
    SELECT * FROM credit_transactions t
    WHERE t.account_id = b.account_id AND t.version <= b.version - $3
    ORDER BY t.version DESC LIMIT $2
) t ON true
WHERE b.account_id = $1
ORDER BY t.version DESC
"""

_OLDEST_FIRST = f"""
SELECT b.version AS total, {_ENTRY_COLUMNS}
FROM credit_balances b
LEFT JOIN LATERAL (
    SELECT * FROM credit_transactions t
    WHERE t.account_id = b.account_id AND t.version > $3
    ORDER BY t.version LIMIT $2
) t ON true
WHERE b.account_id = $1
ORDER BY t.version
"""


async def transactions_page(
    db: Queryable, account_id: UUID, limit: int, offset: int, *, newest_first: bool = True
) -> Page | None:
    """One page of ledger entries and their total; None when the account is not projected."""
    rows = await db.fetch(
        _NEWEST_FIRST if newest_first else _OLDEST_FIRST, account_id, limit, offset
    )
    if not rows:
        return None
    return Page(total=rows[0]["total"], rows=[row for row in rows if row["version"] is not None])


async def snapshot(
    conn: asyncpg.Connection, account_id: UUID
) -> tuple[asyncpg.Record | None, list[asyncpg.Record], list[asyncpg.Record]]:
    """Everything the read model holds about one account: for the auditor's comparison."""
    balance = await conn.fetchrow(
        "SELECT account_id, user_id, balance, held, available, flagged, version, opened_at,"
        " updated_at, position, head_hash FROM credit_balances WHERE account_id = $1",
        account_id,
    )
    entries = await conn.fetch(
        "SELECT * FROM credit_transactions WHERE account_id = $1 ORDER BY version", account_id
    )
    reservations = await conn.fetch(
        "SELECT * FROM credit_reservations WHERE account_id = $1 ORDER BY reservation_id",
        account_id,
    )
    return balance, entries, reservations


async def projected_account_ids(conn: asyncpg.Connection) -> list[UUID]:
    ids: list[UUID] = [
        r["account_id"] for r in await conn.fetch("SELECT account_id FROM credit_balances")
    ]
    return ids


# For the sweeper (sync, psycopg): accounts holding a reservation whose expiry has passed.
# Served by the partial index on open reservations' expiry.
DUE_ACCOUNTS_SQL = (
    "SELECT user_id FROM credit_reservations WHERE status = 'open' AND expires_at <= %s"
    " GROUP BY user_id ORDER BY min(expires_at) LIMIT %s"
)
