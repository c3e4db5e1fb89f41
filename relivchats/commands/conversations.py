"""Conversation commands: record a finished turn, forget a conversation, forget a user's.

Handlers load the conversation (domain/conversations.py) through the unit of work, decide and
save: two questions of one user about one chat racing meet at the conversation's version, and
the loser records its turn after the winner's. Forgetting saves `ConversationForgotten`, then
erases the sealed text; repeating it erases whatever is left, so a failure half-way is repaired
by asking again.

For account deletion (issue 15): `forget_conversation` forgets one (chat, user) conversation and
`forget_user_conversations` every conversation of a user, given a psycopg connection to the
content tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg

from relivchats.adapters.conversation_content import erase_conversation, user_conversations
from relivchats.adapters.event_log import EventLog
from relivchats.commands.unit_of_work import UnitOfWork, execute
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


def load_conversation(uow: UnitOfWork, chat_id: UUID, user_id: UUID) -> Conversation | None:
    return uow.load(conversation_id_for(chat_id, user_id), conversations.evolve)


def record_turn(uow: UnitOfWork, turn: TurnToRecord) -> int:
    """Save the turn's two events; the log position of the save (the head if repeated)."""
    state = load_conversation(uow, turn.chat_id, turn.user_id)
    uow.record(
        *conversations.record_turn(
            state,
            turn.chat_id,
            turn.user_id,
            turn.turn_id,
            turn.content_id,
            turn.question_tokens,
            turn.outcome,
        )
    )
    return uow.save().position


def forget_turns(uow: UnitOfWork, chat_id: UUID, user_id: UUID) -> Forgotten:
    """Save `ConversationForgotten` (the events' side of forgetting); text is erased after."""
    state = load_conversation(uow, chat_id, user_id)
    uow.record(*conversations.forget(state))
    saved = uow.save()
    forgotten = len(state.turns) if state is not None and saved.changed else 0
    return Forgotten(forgotten, saved.position)


def forget_conversation(
    store: EventLog, conn: psycopg.Connection[Any], chat_id: UUID, user_id: UUID
) -> Forgotten:
    """Forget the user's conversation about the chat: its turns and their sealed text."""
    forgotten = execute(store, forget_turns, chat_id, user_id)
    erase_conversation(conn, conversation_id_for(chat_id, user_id))
    return forgotten


def forget_user_conversations(store: EventLog, conn: psycopg.Connection[Any], user_id: UUID) -> int:
    """Forget every conversation the user has; returns how many turns were forgotten."""
    return sum(
        forget_conversation(store, conn, chat_id, user_id).turns
        for chat_id in user_conversations(conn, user_id)
    )
