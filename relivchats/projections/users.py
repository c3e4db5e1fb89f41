"""Read model `users`: one row per account, with its subject key and generation
(schema/002_users.sql, 009_forget.sql). Authentication reads it to refuse the tokens of deleted
accounts; beat reads it to find accounts whose erasure is due.

A batch that registers or deletes accounts also notifies `ACCOUNTS_CHANGED` with each one's
subject key, in its transaction: every API process remembers the newest account of the subjects
it has seen (api/acting_accounts.py) and forgets a subject the moment this commits.
"""

from __future__ import annotations

from typing import Any, ClassVar

import asyncpg

from relivchats.domain.events import Event
from relivchats.domain.users import UserDeletionRequested, UserErased, UserRegistered
from relivchats.projections.base import Envelope, Statement, StatementProjection, topics_of

ACCOUNTS_CHANGED = "relivchats_accounts_changed"

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
# Erasure changes no account a token acts for: only registrations and deletions are announced.
_ANNOUNCE = "SELECT pg_notify($1, subject_key::text) FROM users WHERE user_id = ANY($2::uuid[])"
_ANNOUNCED = (UserRegistered, UserDeletionRequested)


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

    async def apply(self, conn: asyncpg.Connection, batch: list[Envelope]) -> None:
        await super().apply(conn, batch)
        changed = [e.event.originator_id for e in batch if isinstance(e.event, _ANNOUNCED)]
        if changed:
            await conn.execute(_ANNOUNCE, ACCOUNTS_CHANGED, changed)
