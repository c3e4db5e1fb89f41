"""Read model `users`: one row per account, with its subject key and generation
(schema/002_users.sql, 009_forget.sql). Authentication reads it on every request to refuse the
tokens of deleted accounts; beat reads it to find accounts whose erasure is due."""

from __future__ import annotations

from typing import Any, ClassVar

from relivchats.domain.events import Event
from relivchats.domain.users import UserDeletionRequested, UserErased, UserRegistered
from relivchats.projections.base import Statement, StatementProjection, topics_of

# Plain INSERT, no ON CONFLICT: applying an event twice must fail loudly, not hide.
_REGISTERED = """
INSERT INTO users (user_id, subject_key, generation, registered_at, position)
VALUES ($1, $2, $3, $4, $5)
"""
_DELETION_REQUESTED = """
UPDATE users SET deletion_requested_at = $2, erasure_due_at = $3, position = $4
WHERE user_id = $1
"""
_ERASED = "UPDATE users SET erased_at = $2, position = $3 WHERE user_id = $1"


def _registered(e: UserRegistered, position: int) -> tuple[Any, ...]:
    subject_key = e.subject_key or e.originator_id
    return (e.originator_id, subject_key, e.generation, e.timestamp, position)


def _deletion_requested(e: UserDeletionRequested, position: int) -> tuple[Any, ...]:
    return (e.originator_id, e.timestamp, e.erasure_due_at or e.timestamp, position)


def _erased(e: UserErased, position: int) -> tuple[Any, ...]:
    return (e.originator_id, e.timestamp, position)


_STATEMENTS: dict[type[Event], Statement] = {
    UserRegistered: (_REGISTERED, _registered),
    UserDeletionRequested: (_DELETION_REQUESTED, _deletion_requested),
    UserErased: (_ERASED, _erased),
}


class UsersProjection(StatementProjection):
    name: ClassVar[str] = "users"
    topics: ClassVar[tuple[str, ...]] = topics_of(*_STATEMENTS)
    statements: ClassVar[dict[type[Event], Statement]] = _STATEMENTS
    tables: ClassVar[tuple[str, ...]] = ("users",)
