"""Read model `rag_turns`: one row per question asked about a chat, and how it was answered.

Ids, counts, the model, the latency and the source ranges only: the text stays sealed in
`conversation_contents`. A turn's two events are saved together; its row is inserted by the
first and completed by the second. Forgetting a conversation deletes its rows up to the
forgetting; deleting a chat deletes every row of the chat. A turn's status is the domain's
(`conversations.turn_status_named_by`).
"""

from __future__ import annotations

from typing import Any, ClassVar

import orjson

from relivchats.domain.chats import ChatDeleted
from relivchats.domain.conversations import (
    ConversationForgotten,
    QuestionAnswered,
    QuestionAsked,
    QuestionFailed,
    turn_status_named_by,
)
from relivchats.domain.events import Event
from relivchats.projections.base import Statement, StatementProjection, topics_of

# Plain INSERT, no ON CONFLICT: applying a question twice must fail loudly, not hide.
_ASKED = """
INSERT INTO rag_turns (turn_id, conversation_id, chat_id, user_id, content_id, status, asked_at,
    question_tokens, position)
VALUES ($1, $2, $3, $4, $5, $9, $6, $7, $8)
"""
_ANSWERED = """
UPDATE rag_turns SET status = $10, model = $2, prompt_tokens = $3, output_tokens = $4,
    thinking_tokens = $5, latency_ms = $6, offline = $7, confidence = $8, sources = $9::jsonb
WHERE turn_id = $1
"""
_FAILED = "UPDATE rag_turns SET status = $3, error = $2 WHERE turn_id = $1"
_FORGOTTEN = "DELETE FROM rag_turns WHERE conversation_id = $1 AND position < $2"
_CHAT_DELETED = "DELETE FROM rag_turns WHERE chat_id = $1"


def _asked(e: QuestionAsked, position: int) -> tuple[Any, ...]:
    return (
        e.turn_id,
        e.originator_id,
        e.chat_id,
        e.user_id,
        e.content_id,
        e.timestamp,
        e.question_tokens,
        position,
        turn_status_named_by(e),
    )


def _answered(e: QuestionAnswered, position: int) -> tuple[Any, ...]:
    return (
        e.turn_id,
        e.model,
        e.prompt_tokens,
        e.output_tokens,
        e.thinking_tokens,
        e.latency_ms,
        e.offline,
        e.confidence,
        orjson.dumps(e.sources).decode(),
        turn_status_named_by(e),
    )


def _failed(e: QuestionFailed, position: int) -> tuple[Any, ...]:
    return (e.turn_id, e.error, turn_status_named_by(e))


def _forgotten(e: ConversationForgotten, position: int) -> tuple[Any, ...]:
    return (e.originator_id, position)


def _chat_deleted(e: ChatDeleted, position: int) -> tuple[Any, ...]:
    return (e.originator_id,)


_STATEMENTS: dict[type[Event], Statement] = {
    QuestionAsked: (_ASKED, _asked),
    QuestionAnswered: (_ANSWERED, _answered),
    QuestionFailed: (_FAILED, _failed),
    ConversationForgotten: (_FORGOTTEN, _forgotten),
    ChatDeleted: (_CHAT_DELETED, _chat_deleted),
}


class ConversationsProjection(StatementProjection):
    name: ClassVar[str] = "conversations"
    topics: ClassVar[tuple[str, ...]] = topics_of(*_STATEMENTS)
    statements: ClassVar[dict[type[Event], Statement]] = _STATEMENTS
    tables: ClassVar[tuple[str, ...]] = ("rag_turns",)
