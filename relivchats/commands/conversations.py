"""Conversation commands: record a finished turn, forget a conversation, forget a user's.

Each loads the conversation (domain/conversations.py), decides, and appends; retried on version
conflicts (two questions of one user on one chat racing meet at the conversation's version, and
the loser records its turn after the winner's). Forgetting appends `ConversationForgotten`, then
erases the sealed text; repeating it erases whatever is left, so a failure half-way is repaired
by asking again.

For account deletion (issue 15): `forget_conversation` forgets one (chat, user) conversation and
`forget_user_conversations` every conversation of a user, with a psycopg connection to the
content tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg

from relivchats.adapters.conversation_content import erase_conversation, user_conversations
from relivchats.adapters.eventstore import EventStore
from relivchats.commands.retry import with_retries
from relivchats.domain import conversations
from relivchats.domain.conversations import Conversation, Outcome, conversation_id_for


@dataclass(frozen=True)
class TurnToRecord:
    chat_id: UUID
    user_id: UUID
    turn_id: UUID
    content_id: UUID
    question_tokens: int
    outcome: Outcome


@dataclass(frozen=True)
class Forgotten:
    turns: int  # turns forgotten by this call (0: there were none)
    position: int


def load_conversation(store: EventStore, chat_id: UUID, user_id: UUID) -> Conversation | None:
    return conversations.replay(store.load(conversation_id_for(chat_id, user_id)))


def record_turn(store: EventStore, turn: TurnToRecord) -> int:
    """Append the turn's two events; the log position of the save (or the head if repeated)."""

    def append_turn() -> int:
        state = load_conversation(store, turn.chat_id, turn.user_id)
        events = conversations.record_turn(
            state,
            turn.chat_id,
            turn.user_id,
            turn.turn_id,
            turn.content_id,
            turn.question_tokens,
            turn.outcome,
        )
        return store.append(*events) if events else store.head()

    return with_retries(store, append_turn)


def forget_turns(store: EventStore, chat_id: UUID, user_id: UUID) -> Forgotten:
    """Append `ConversationForgotten` (the events' side of forgetting); text is erased after."""

    def append_forgetting() -> Forgotten:
        state = load_conversation(store, chat_id, user_id)
        events = conversations.forget(state)
        if not events:
            return Forgotten(0, store.head())
        assert state is not None
        return Forgotten(len(state.turns), store.append(*events))

    return with_retries(store, append_forgetting)


def forget_conversation(
    store: EventStore, conn: psycopg.Connection[Any], chat_id: UUID, user_id: UUID
) -> Forgotten:
    """Forget the user's conversation about the chat: its turns and their sealed text."""
    forgotten = forget_turns(store, chat_id, user_id)
    erase_conversation(conn, conversation_id_for(chat_id, user_id))
    return forgotten


def forget_user_conversations(
    store: EventStore, conn: psycopg.Connection[Any], user_id: UUID
) -> int:
    """Forget every conversation the user has; returns how many turns were forgotten."""
    return sum(
        forget_conversation(store, conn, chat_id, user_id).turns
        for chat_id in user_conversations(conn, user_id)
    )
