"""Read model `chats`: one light row per live chat, and the deleted ones awaiting their purge.

A `ChatDeleted` removes the chat's row in the same statement that queues its content for the
purge task (`chats_pending_purge`), so every read (list, get, messages, share) loses it at the
same position. Events are applied in log order; consecutive events of one kind go to the
database as one `executemany`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from relivchats.domain.chats import (
    ChatDeleted,
    ChatIndexed,
    ChatPurged,
    ChatShared,
    ChatUnshared,
    ChatUploaded,
    DisplayNameSet,
    IndexingFailed,
)
from relivchats.domain.events import Event
from relivchats.projections.base import Statement, StatementProjection, topics_of

# Plain INSERT, no ON CONFLICT: applying an upload twice must fail loudly, not hide.
_UPLOADED = """
INSERT INTO chats (chat_id, owner_id, title, participants, is_group, message_count,
    first_message_at, last_message_at, content_id, uploaded_at, uploaded_position, position)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
"""
_DISPLAY_NAME = "UPDATE chats SET me_participant = $2, title = $3, position = $4 WHERE chat_id = $1"
_INDEXED = (
    "UPDATE chats SET indexed_chunks = $2, indexing_failure = NULL, position = $3"
    " WHERE chat_id = $1"
)
_INDEXING_FAILED = "UPDATE chats SET indexing_failure = $2, position = $3 WHERE chat_id = $1"
_SHARE = "UPDATE chats SET share_token_hash = $2, position = $3 WHERE chat_id = $1"
_DELETED = """
WITH gone AS (DELETE FROM chats WHERE chat_id = $1 RETURNING chat_id, content_id, owner_id)
INSERT INTO chats_pending_purge (chat_id, content_id, deleted_at, position, owner_id)
SELECT chat_id, content_id, $2, $3, owner_id FROM gone
"""
_PURGED = "DELETE FROM chats_pending_purge WHERE chat_id = $1"


def _uploaded(e: ChatUploaded, position: int) -> tuple[Any, ...]:
    return (
        e.originator_id,
        e.owner_id,
        e.title,
        list(e.participants),
        e.is_group,
        e.message_count,
        e.first_message_at,
        e.last_message_at,
        e.content_id,
        e.timestamp,
        position,
    )


def _display_name(e: DisplayNameSet, position: int) -> tuple[Any, ...]:
    return (e.originator_id, e.me_participant, e.title, position)


def _indexed(e: ChatIndexed, position: int) -> tuple[Any, ...]:
    return (e.originator_id, e.chunks, position)


def _indexing_failed(e: IndexingFailed, position: int) -> tuple[Any, ...]:
    return (e.originator_id, e.reason, position)


def _shared(e: ChatShared, position: int) -> tuple[Any, ...]:
    return (e.originator_id, e.share_token_hash, position)


def _unshared(e: ChatUnshared, position: int) -> tuple[Any, ...]:
    return (e.originator_id, None, position)


def _deleted(e: ChatDeleted, position: int) -> tuple[Any, ...]:
    return (e.originator_id, e.timestamp, position)


def _purged(e: ChatPurged, position: int) -> tuple[Any, ...]:
    return (e.originator_id,)


_STATEMENTS: dict[type[Event], Statement] = {
    ChatUploaded: (_UPLOADED, _uploaded),
    DisplayNameSet: (_DISPLAY_NAME, _display_name),
    ChatIndexed: (_INDEXED, _indexed),
    IndexingFailed: (_INDEXING_FAILED, _indexing_failed),
    ChatShared: (_SHARE, _shared),
    ChatUnshared: (_SHARE, _unshared),
    ChatDeleted: (_DELETED, _deleted),
    ChatPurged: (_PURGED, _purged),
}


class ChatsProjection(StatementProjection):
    name: ClassVar[str] = "chats"
    topics: ClassVar[tuple[str, ...]] = topics_of(*_STATEMENTS)
    statements: ClassVar[dict[type[Event], Statement]] = _STATEMENTS
    tables: ClassVar[tuple[str, ...]] = ("chats", "chats_pending_purge")
