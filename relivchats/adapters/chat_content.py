"""Content tables (schema/005_chats.sql): a chat's messages and statistics, sealed at rest.

Content is written once, in one transaction, by the process that parsed the upload (psycopg
COPY), before the chat's `ChatUploaded` event names it; it is read by the API (asyncpg), only
through a live chat's read row; and erased by the purge task. Rows are keyed by `content_id`,
not by the chat: two racing uploads under one Idempotency-Key each write their own content and
only the one the event names is ever read; the other is an orphan the purge task removes.

Every text and the statistics (which quote messages) are sealed with `ContentCipher`, bound to
the chat and the row, so no plaintext of a chat ever reaches a table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import orjson
import psycopg

from relivchats.adapters.crypto import ContentCipher
from relivchats.domain.uploads import MessageKind, ParsedChat

_COPY_MESSAGES = (
    "COPY chat_messages (content_id, seq, sent_at, sender_index, kind, body)"
    " FROM STDIN (FORMAT BINARY)"
)
_COPY_TYPES = ["uuid", "int4", "timestamp", "int2", "int2", "bytea"]


def message_context(chat_id: UUID, seq: int) -> bytes:
    return b"message|" + chat_id.bytes + seq.to_bytes(4, "big")


def statistics_context(chat_id: UUID) -> bytes:
    return b"statistics|" + chat_id.bytes


@dataclass(frozen=True)
class StoredMessage:
    seq: int
    sent_at: datetime
    sender_index: int
    kind: MessageKind
    text: str


def store_content(
    conn: psycopg.Connection[Any],
    cipher: ContentCipher,
    chat_id: UUID,
    content_id: UUID,
    chat: ParsedChat,
    statistics: dict[str, Any],
) -> None:
    """Seal and write every message and the statistics in one transaction (all or nothing)."""
    count = len(chat)
    bodies = cipher.seal_many(
        [text.encode() for text in chat.texts],
        [message_context(chat_id, seq) for seq in range(count)],
    )
    sealed_statistics = cipher.seal(orjson.dumps(statistics), statistics_context(chat_id))
    rows = zip(
        [content_id] * count,
        range(count),
        chat.timestamps.astype("datetime64[us]").tolist(),
        chat.sender_codes.tolist(),
        chat.kinds.tolist(),
        bodies,
        strict=True,
    )
    with conn.transaction():
        conn.execute(
            "INSERT INTO chat_contents (content_id, chat_id, message_count, statistics)"
            " VALUES (%s, %s, %s, %s)",
            (content_id, chat_id, count, sealed_statistics),
        )
        with conn.cursor().copy(_COPY_MESSAGES) as copy:
            copy.set_types(_COPY_TYPES)
            for row in rows:
                copy.write_row(row)


def read_messages(
    conn: psycopg.Connection[Any],
    cipher: ContentCipher,
    chat_id: UUID,
    content_id: UUID,
    seqs: list[int] | None = None,
) -> list[StoredMessage]:
    """For workers: every message in time order (or those at `seqs`), opened."""
    query = "SELECT seq, sent_at, sender_index, kind, body FROM chat_messages WHERE content_id = %s"
    arguments: tuple[Any, ...] = (content_id,)
    if seqs is not None:
        query += " AND seq = ANY(%s)"
        arguments = (content_id, seqs)
    with conn.cursor(binary=True) as cursor:
        rows = cursor.execute(query + " ORDER BY seq", arguments).fetchall()
    return [
        StoredMessage(
            seq=seq,
            sent_at=sent_at,
            sender_index=sender,
            kind=MessageKind(kind),
            text=cipher.open(body, message_context(chat_id, seq)).decode(),
        )
        for seq, sent_at, sender, kind, body in rows
    ]


def read_statistics(
    conn: psycopg.Connection[Any], cipher: ContentCipher, chat_id: UUID, content_id: UUID
) -> dict[str, Any] | None:
    """For workers: the chat's statistics, opened; None if its content is gone."""
    row = conn.execute(
        "SELECT statistics FROM chat_contents WHERE content_id = %s", (content_id,)
    ).fetchone()
    if row is None:
        return None
    statistics: dict[str, Any] = orjson.loads(cipher.open(row[0], statistics_context(chat_id)))
    return statistics


def erase_content(conn: psycopg.Connection[Any], content_id: UUID) -> int:
    """Delete one content's messages and statistics; returns the messages deleted (0 if none)."""
    with conn.transaction():
        deleted = conn.execute("DELETE FROM chat_messages WHERE content_id = %s", (content_id,))
        conn.execute("DELETE FROM chat_contents WHERE content_id = %s", (content_id,))
    return deleted.rowcount


def unreferenced_content(
    conn: psycopg.Connection[Any], older_than: timedelta, limit: int
) -> list[tuple[UUID, UUID]]:
    """(content id, chat id) of content written before `older_than` that no live chat row names.

    Candidates only: the read model may lag, so the caller confirms against the chat's events.
    """
    rows = conn.execute(
        "SELECT c.content_id, c.chat_id FROM chat_contents c"
        " WHERE c.created_at < now() - %s"
        " AND NOT EXISTS (SELECT 1 FROM chats r WHERE r.content_id = c.content_id)"
        " ORDER BY c.created_at LIMIT %s",
        (older_than, limit),
    )
    return [(row[0], row[1]) for row in rows]


async def message_page(
    conn: asyncpg.Connection,
    cipher: ContentCipher,
    chat_id: UUID,
    content_id: UUID,
    after_seq: int,
    limit: int,
) -> list[StoredMessage]:
    """Messages in time order after `after_seq` (-1 for the first page), opened."""
    rows = await conn.fetch(
        "SELECT seq, sent_at, sender_index, kind, body FROM chat_messages"
        " WHERE content_id = $1 AND seq > $2::bigint ORDER BY seq LIMIT $3",
        content_id,
        after_seq,
        limit,
    )
    return _opened_messages(cipher, chat_id, rows)


async def statistics_json(
    conn: asyncpg.Connection, cipher: ContentCipher, chat_id: UUID, content_id: UUID
) -> bytes | None:
    """The chat's statistics as JSON bytes, opened; None if its content is gone."""
    sealed = await conn.fetchval(
        "SELECT statistics FROM chat_contents WHERE content_id = $1", content_id
    )
    if sealed is None:
        return None
    opened: bytes = cipher.open(sealed, statistics_context(chat_id))
    return opened


async def messages_at(
    conn: asyncpg.Connection,
    cipher: ContentCipher,
    chat_id: UUID,
    content_id: UUID,
    seqs: list[int],
) -> list[StoredMessage]:
    """The messages at these positions, in time order, opened (a question's sources)."""
    rows = await conn.fetch(
        "SELECT seq, sent_at, sender_index, kind, body FROM chat_messages"
        " WHERE content_id = $1 AND seq = ANY($2::int[]) ORDER BY seq",
        content_id,
        seqs,
    )
    return _opened_messages(cipher, chat_id, rows)


def _opened_messages(
    cipher: ContentCipher, chat_id: UUID, rows: list[asyncpg.Record]
) -> list[StoredMessage]:
    return [
        StoredMessage(
            seq=row["seq"],
            sent_at=row["sent_at"],
            sender_index=row["sender_index"],
            kind=MessageKind(row["kind"]),
            text=cipher.open(row["body"], message_context(chat_id, row["seq"])).decode(),
        )
        for row in rows
    ]
