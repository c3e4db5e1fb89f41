"""Reads of the `rag_turns` read model (projections/conversations.py) for the API."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from relivchats.adapters.database import ReadPool

_TURNS = """
SELECT turn_id, conversation_id, content_id, status, asked_at, model, latency_ms, offline,
    confidence, sources, error, position
FROM rag_turns
WHERE chat_id = $1 AND user_id = $2 AND status <> 'asked' AND ($3::bigint IS NULL OR position < $3)
ORDER BY position DESC
LIMIT $4
"""


async def turns_before(
    db: ReadPool, chat_id: UUID, user_id: UUID, before: int | None, limit: int
) -> list[asyncpg.Record]:
    """The newest `limit` turns older than `before` (all when None), newest first."""
    return await db.fetch(_TURNS, chat_id, user_id, before, limit)


async def turns_of_user(conn: asyncpg.Connection, user_id: UUID) -> list[asyncpg.Record]:
    """Every recorded turn of the user, on any chat, oldest first (for the data export)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT turn_id, conversation_id, chat_id, content_id, status, asked_at, model,"
        " latency_ms, offline, confidence, sources, error, position"
        " FROM rag_turns WHERE user_id = $1 AND status <> 'asked' ORDER BY position",
        user_id,
    )
    return rows
