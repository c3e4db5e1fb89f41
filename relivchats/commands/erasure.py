"""Erasing a deleted account once its grace period is over: crypto-shredding (product.md s. 7).

A short process of commands, in this order, each step idempotent, so a run cut short is
finished by the next:
1. the erasure is decided on the account's events (deleted, and due unless the grace is skipped);
2. every chat of the account is deleted if it somehow still lives, its messages, statistics and
   insight content are erased and `ChatPurged` recorded (vectors go with `ChatDeleted`: the
   dispatcher sends `indexing.forget_chat` to the vector store's single owner);
3. the user's data key is destroyed: every personal field sealed under it, in every event ever
   written, can no longer be opened by anyone, and reads as erased from then on;
4. `UserErased` is saved.
Credit events hold no personal data: the ledger replays to the same totals, and its hash chain
(computed over non-personal fields only) still verifies.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg

from relivchats.adapters.chat_content import erase_content
from relivchats.adapters.eventstore import EventStore
from relivchats.adapters.insight_content import erase_chat_insights
from relivchats.commands.chats import delete_chat, mark_purged
from relivchats.commands.unit_of_work import UnitOfWork, execute
from relivchats.domain import users, users_rules
from relivchats.domain.chats import ChatNotFound
from relivchats.projections.chat_queries import OWNED_CONTENT_SQL


@dataclass(frozen=True)
class Erasure:
    user_id: UUID
    erased: bool  # this call erased it (False: it already was)
    chats_purged: int
    position: int


def erase_account(
    store: EventStore, database_url: str, user_id: UUID, now: datetime, *, skip_grace: bool
) -> Erasure:
    if not execute(store, erasure_due, user_id, now, skip_grace):
        return Erasure(user_id, False, 0, store.head())
    with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as conn:
        purged = _erase_chats(conn, store, user_id)
    store.data_keys.destroy(user_id)
    position = execute(store, record_erasure, user_id, now, skip_grace)
    return Erasure(user_id, True, purged, position)


def erasure_due(uow: UnitOfWork, user_id: UUID, now: datetime, skip_grace: bool) -> bool:
    """Whether the account is to be erased now (a Conflict if it is not deleted, or not due)."""
    return bool(users_rules.erase(uow.load(user_id, users.evolve), now, skip_grace=skip_grace))


def record_erasure(uow: UnitOfWork, user_id: UUID, now: datetime, skip_grace: bool) -> int:
    uow.record(*users_rules.erase(uow.load(user_id, users.evolve), now, skip_grace=skip_grace))
    return uow.save().position


def _erase_chats(conn: psycopg.Connection[Any], store: EventStore, owner_id: UUID) -> int:
    chats = conn.execute(OWNED_CONTENT_SQL, {"owner": owner_id}).fetchall()
    for chat_id, content_id, deleted in chats:
        if not deleted:
            with contextlib.suppress(ChatNotFound):  # deleted meanwhile
                execute(store, delete_chat, chat_id, owner_id)
        erase_content(conn, content_id)
        erase_chat_insights(conn, chat_id)
        execute(store, mark_purged, chat_id)
    return len(chats)
