"""Generated insights, sealed at rest: the `insight_contents` table (schema/006_insights.sql).

An insight quotes the chat, so it is chat content: AES-GCM sealed with `ContentCipher`, bound to
its chat, job and insight type (a body copied to another row fails to open). The generation
worker writes it under a fresh `content_id` before the `InsightSucceeded` that names it; the API
opens only what a read-model row names; deleting the chat erases them all with its vectors.
A body whose event never got appended (a worker lost in between) is never read, and goes with
its chat.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import orjson
import psycopg

from relivchats.adapters.crypto import ContentCipher


def insight_context(chat_id: UUID, job_id: UUID, insight_type: str) -> bytes:
    return b"insight|" + chat_id.bytes + job_id.bytes + insight_type.encode()


def store_insight(
    conn: psycopg.Connection[Any],
    cipher: ContentCipher,
    content_id: UUID,
    chat_id: UUID,
    job_id: UUID,
    insight_type: str,
    insight: dict[str, Any],
) -> None:
    sealed = cipher.seal(orjson.dumps(insight), insight_context(chat_id, job_id, insight_type))
    conn.execute(
        "INSERT INTO insight_contents (content_id, chat_id, job_id, insight_type, body)"
        " VALUES (%s, %s, %s, %s, %s)",
        (content_id, chat_id, job_id, insight_type, sealed),
    )


def erase_insight(conn: psycopg.Connection[Any], content_id: UUID) -> None:
    conn.execute("DELETE FROM insight_contents WHERE content_id = %s", (content_id,))


def erase_chat_insights(conn: psycopg.Connection[Any], chat_id: UUID) -> int:
    return conn.execute("DELETE FROM insight_contents WHERE chat_id = %s", (chat_id,)).rowcount


def open_insight(
    cipher: ContentCipher, body: bytes, chat_id: UUID, job_id: UUID, insight_type: str
) -> dict[str, Any]:
    insight: dict[str, Any] = orjson.loads(
        cipher.open(body, insight_context(chat_id, job_id, insight_type))
    )
    return insight
