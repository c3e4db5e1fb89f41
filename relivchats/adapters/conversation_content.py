"""The text of questions and answers, sealed at rest: `conversation_contents` (schema 008).

A turn's question and answer are chat content (an answer quotes the chat; a question may name
anything): one AES-GCM sealed JSON body per turn, bound to its conversation and turn, so a body
copied to another row fails to open. The API writes it under a fresh `content_id` before the
events that name it; a body whose events never got appended is never read and goes with its
conversation. Forgetting a conversation (its DELETE, account deletion) or deleting its chat
erases the bodies; the events keep only ids and counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
import orjson
import psycopg

from relivchats.adapters.crypto import ContentCipher


@dataclass(frozen=True)
class TurnText:
    question: str
    answer: str | None  # None: the turn failed


@dataclass(frozen=True)
class TurnOwner:
    """Whose turn a body is: what its seal is bound to and what erases it."""

    conversation_id: UUID
    chat_id: UUID
    user_id: UUID


def turn_context(conversation_id: UUID, turn_id: UUID) -> bytes:
    return b"conversation-turn|" + conversation_id.bytes + turn_id.bytes


async def store_turn(
    conn: asyncpg.Connection,
    cipher: ContentCipher,
    content_id: UUID,
    owner: TurnOwner,
    turn_id: UUID,
    text: TurnText,
) -> None:
    body = orjson.dumps({"question": text.question, "answer": text.answer})
    sealed = cipher.seal(body, turn_context(owner.conversation_id, turn_id))
    await conn.execute(
        "INSERT INTO conversation_contents"
        " (content_id, conversation_id, chat_id, user_id, turn_id, body)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        content_id,
        owner.conversation_id,
        owner.chat_id,
        owner.user_id,
        turn_id,
        sealed,
    )


async def turn_texts(
    conn: asyncpg.Connection, cipher: ContentCipher, conversation_id: UUID, content_ids: list[UUID]
) -> dict[UUID, TurnText]:
    """The opened texts of these turns' contents, by content id (an erased one is missing)."""
    rows = await conn.fetch(
        "SELECT content_id, turn_id, body FROM conversation_contents"
        " WHERE conversation_id = $1 AND content_id = ANY($2::uuid[])",
        conversation_id,
        content_ids,
    )
    return {row["content_id"]: _opened(cipher, conversation_id, row) for row in rows}


def _opened(cipher: ContentCipher, conversation_id: UUID, row: Any) -> TurnText:
    body = orjson.loads(cipher.open(row["body"], turn_context(conversation_id, row["turn_id"])))
    return TurnText(question=body["question"], answer=body["answer"])


async def erase_conversation_async(conn: asyncpg.Connection, conversation_id: UUID) -> int:
    status: str = await conn.execute(
        "DELETE FROM conversation_contents WHERE conversation_id = $1", conversation_id
    )
    return int(status.split()[-1])


def erase_chat_conversations(conn: psycopg.Connection[Any], chat_id: UUID) -> int:
    """A deleted chat's questions and answers, whoever asked them."""
    return conn.execute("DELETE FROM conversation_contents WHERE chat_id = %s", (chat_id,)).rowcount
