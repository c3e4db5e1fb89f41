"""Conversation commands: record a finished turn, forget a conversation.

Handlers load the conversation (domain/conversations.py) through the unit of work, decide
(domain/conversations_rules.py) and save: two questions of one user about one chat racing meet
at the conversation's version, and the loser records its turn after the winner's. Forgetting
saves `ConversationForgotten`, then erases the sealed text; repeating it erases whatever is left,
so a failure half-way is repaired by asking again.

Account deletion (commands/account_deletion.py) forgets each of the user's conversations with
`forget_turns`; their text goes with the user's chats (workers/indexing.forget_chat).
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from relivchats.commands.unit_of_work import UnitOfWork
from relivchats.domain import conversations, conversations_rules
from relivchats.domain.conversations import Conversation, conversation_id_for
from relivchats.domain.conversations_rules import Outcome


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
        *conversations_rules.record_turn(
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
    uow.record(*conversations_rules.forget(state))
    saved = uow.save()
    forgotten = len(state.turns) if state is not None and saved.changed else 0
    return Forgotten(forgotten, saved.position)
