"""The Conversation aggregate: one user's questions about one chat, and how each was answered.

One conversation per (chat, user), under a deterministic id, so racing questions meet at its
version. A turn is recorded in ONE save when it is over: `QuestionAsked` with `QuestionAnswered`
or with `QuestionFailed`, never one without the other, so no turn is ever half-written (a client
that leaves mid-answer finds its turn complete or failed, never pending forever).

Events hold ids, counts, the model, the latency and the source ranges: never text. The question
and the answer are chat content, sealed in `conversation_contents` under the `content_id` the
events name (adapters/conversation_content.py). `ConversationForgotten` drops every earlier turn
(the API's DELETE, and account deletion); later questions start afresh. What each command
decides lives in `conversations_rules.py`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from relivchats.domain.events import Event, deterministic_id, fold

HISTORY_TURNS = 10  # answered turns given to the model as history (about 3,000 tokens)


def conversation_id_for(chat_id: UUID, user_id: UUID) -> UUID:
    return deterministic_id("conversation", chat_id, user_id)


@dataclass(frozen=True)
class SourceRange:
    """One retrieved chunk the answer drew on: where it sits in the chat, no text (speakers are
    positions in the chat's participant list)."""

    chunk_index: int
    first_message: int
    end_message: int
    message_count: int
    start: datetime
    end: datetime
    speakers: tuple[int, ...]
    similarity: float

    def as_payload(self) -> dict[str, Any]:
        payload = asdict(self)
        payload.update(start=self.start.isoformat(), end=self.end.isoformat())
        payload["speakers"] = list(self.speakers)
        return payload


@dataclass(frozen=True)
class QuestionAsked(Event):
    TOPIC = "conversations.QuestionAsked.v1"
    turn_id: UUID
    chat_id: UUID
    user_id: UUID
    content_id: UUID  # the sealed question (and answer) in `conversation_contents`
    question_tokens: int


@dataclass(frozen=True)
class QuestionAnswered(Event):
    TOPIC = "conversations.QuestionAnswered.v1"
    turn_id: UUID
    model: str
    prompt_tokens: int
    output_tokens: int
    thinking_tokens: int
    latency_ms: int  # question to recorded answer, as the user waited
    offline: bool
    confidence: str
    sources: list[dict[str, Any]]  # SourceRange.as_payload(): stored as plain JSON


@dataclass(frozen=True)
class QuestionFailed(Event):
    TOPIC = "conversations.QuestionFailed.v1"
    turn_id: UUID
    error: str  # an error code, never content


@dataclass(frozen=True)
class ConversationForgotten(Event):
    TOPIC = "conversations.ConversationForgotten.v1"
    chat_id: UUID
    user_id: UUID
    turns: int  # how many turns were forgotten


TurnStatus = Literal["asked", "answered", "failed"]


_TURN_STATUS: Mapping[type[Event], TurnStatus] = {
    QuestionAsked: "asked",
    QuestionAnswered: "answered",
    QuestionFailed: "failed",
}


def turn_status_named_by(event: Event) -> TurnStatus | None:
    """Where a turn stands after its event, as the `rag_turns` read model names it too."""
    return _TURN_STATUS.get(type(event))


@dataclass(frozen=True)
class TurnRecord:
    turn_id: UUID
    content_id: UUID
    status: TurnStatus

    @property
    def answered(self) -> bool:
        return self.status == "answered"


@dataclass(frozen=True)
class Conversation:
    id: UUID
    version: int
    chat_id: UUID
    user_id: UUID
    turns: tuple[TurnRecord, ...] = ()  # since the last forgetting, oldest first

    def history(self, limit: int = HISTORY_TURNS) -> tuple[TurnRecord, ...]:
        """The newest answered turns, oldest first: what the model is reminded of."""
        answered = [turn for turn in self.turns if turn.answered]
        return tuple(answered[-limit:])


def evolve(state: Conversation | None, event: Event) -> Conversation:
    if state is None:
        assert isinstance(event, QuestionAsked | ConversationForgotten), type(event).__name__
        state = Conversation(event.originator_id, 0, event.chat_id, event.user_id)
    state = replace(state, version=event.originator_version)
    match event:
        case QuestionAsked(turn_id=turn_id, content_id=content_id):
            asked = TurnRecord(turn_id, content_id, "asked")
            return replace(state, turns=(*state.turns, asked))
        case QuestionAnswered(turn_id=turn_id) | QuestionFailed(turn_id=turn_id):
            status = turn_status_named_by(event)
            assert status is not None
            turns = tuple(_ended(turn, turn_id, status) for turn in state.turns)
            return replace(state, turns=turns)
        case ConversationForgotten():
            return replace(state, turns=())
    return state


def _ended(turn: TurnRecord, turn_id: UUID, status: TurnStatus) -> TurnRecord:
    return replace(turn, status=status) if turn.turn_id == turn_id else turn


def replay(events: Iterable[Event]) -> Conversation | None:
    return fold(evolve, events)
