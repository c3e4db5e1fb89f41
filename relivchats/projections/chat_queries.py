"""Reading the chats read model (projections/chats.py): every query on its tables lives here.

Each is one statement on an index: the owner's list by (owner, upload position), one chat by
its key and owner, a shared chat by its token's hash. A deleted chat has no row, so none of
these can return it.
"""

from __future__ import annotations

from typing import Any, Protocol
from uuid import UUID

import asyncpg

CHAT_COLUMNS = (
    "chat_id, owner_id, title, participants, is_group, me_participant, message_count,"
    " first_message_at, last_message_at, content_id, uploaded_at, uploaded_position,"
    " indexed_chunks, indexing_failure, share_token_hash IS NOT NULL AS shared, position"
)


class Queryable(Protocol):
    """An asyncpg connection, or the API's read pool (same `fetch`/`fetchrow` methods)."""

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]: ...

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None: ...


async def chats_of(
    db: Queryable, owner_id: UUID, before_position: int | None, limit: int
) -> list[asyncpg.Record]:
    """The owner's chats, newest upload first, uploaded before `before_position` (the cursor)."""
    rows: list[asyncpg.Record] = await db.fetch(
        f"SELECT {CHAT_COLUMNS} FROM chats WHERE owner_id = $1 AND uploaded_position < $2"
        " ORDER BY uploaded_position DESC LIMIT $3",
        owner_id,
        before_position if before_position is not None else 2**62,
        limit,
    )
    return rows


async def owned_chat(db: Queryable, chat_id: UUID, owner_id: UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await db.fetchrow(
        f"SELECT {CHAT_COLUMNS} FROM chats WHERE chat_id = $1 AND owner_id = $2",
        chat_id,
        owner_id,
    )
    return row


async def shared_chat(db: Queryable, share_token_hash: str) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await db.fetchrow(
        f"SELECT {CHAT_COLUMNS} FROM chats WHERE share_token_hash = $1", share_token_hash
    )
    return row


# For the purge task (psycopg, sync): deleted chats whose content is still to be erased.
PENDING_PURGE_SQL = (
    "SELECT chat_id, content_id FROM chats_pending_purge ORDER BY deleted_at, chat_id LIMIT %s"
)


async def chat_ids_of(db: Queryable, owner_id: UUID) -> list[UUID]:
    """Every live chat of the owner (for deleting an account: all of them, not a page)."""
    rows = await db.fetch("SELECT chat_id FROM chats WHERE owner_id = $1", owner_id)
    return [row["chat_id"] for row in rows]


# For erasing an account (psycopg, sync): its chats, live or awaiting their purge.
OWNED_CONTENT_SQL = (
    "SELECT chat_id, content_id, false AS deleted FROM chats WHERE owner_id = %(owner)s"
    " UNION ALL SELECT chat_id, content_id, true FROM chats_pending_purge"
    " WHERE owner_id = %(owner)s"
)
