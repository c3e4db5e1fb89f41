"""The Conversation aggregate: one user's questions about one chat, and how each was answered.

One conversation per (chat, user), under a deterministic id, so racing questions meet at its
version. A turn is recorded in ONE save when it is over: `QuestionAsked` with `QuestionAnswered`
or with `QuestionFailed`, never one without the other, so no turn is ever half-written (a client
that leaves mid-answer finds its turn complete or failed, never pending forever).

Events hold ids, counts, the model, the latency and the source ranges: never text. The question
and the answer are chat content, sealed in `conversation_contents` under the `content_id` the
events name (adapters/conversation_content.py). `ConversationForgotten` drops every earlier turn
(the API's DELETE, and account deletion); later questions start afresh.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from relivchats.domain.events import Event, deterministic_id, fold, next_event_fields

HISTORY_TURNS = 10  # answered turns given to the model as history (about 3,000 tokens)
# Cosine similarity of the question to a chunk. Calibrated on all-MiniLM-L6-v2 over chat text,
# where a chunk that answers the question scores about 0.5-0.7 and an unrelated one under 0.3.
HIGH_SIMILARITY = 0.55
MEDIUM_SIMILARITY = 0.35
SUPPORTING_CHUNKS = 3


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


CONVERSATION_EVENTS = (QuestionAsked, QuestionAnswered, QuestionFailed, ConversationForgotten)


@dataclass(frozen=True)
class TurnRecord:
    turn_id: UUID
    content_id: UUID
    answered: bool


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


@dataclass(frozen=True)
class Outcome:
    """How a turn ended: answered (with its generation) or failed (with an error code)."""

    error: str | None = None
    model: str = ""
    prompt_tokens: int = 0
    output_tokens: int = 0
    thinking_tokens: int = 0
    latency_ms: int = 0
    offline: bool = False
    confidence: str = "low"
    sources: tuple[SourceRange, ...] = ()


def confidence_of(similarities: Iterable[float]) -> str:
    """high: the best chunk matches well and the next ones back it up (the mean of the best
    three is at least medium); medium: the best chunk matches fairly; low otherwise or without
    sources."""
    ranked = sorted(similarities, reverse=True)
    if not ranked:
        return "low"
    support = ranked[:SUPPORTING_CHUNKS]
    if ranked[0] >= HIGH_SIMILARITY and sum(support) / len(support) >= MEDIUM_SIMILARITY:
        return "high"
    return "medium" if ranked[0] >= MEDIUM_SIMILARITY else "low"


def evolve(state: Conversation | None, event: Event) -> Conversation:
    if state is None:
        assert isinstance(event, QuestionAsked | ConversationForgotten), type(event).__name__
        state = Conversation(event.originator_id, 0, event.chat_id, event.user_id)
    state = replace(state, version=event.originator_version)
    match event:
        case QuestionAsked(turn_id=turn_id, content_id=content_id):
            return replace(state, turns=(*state.turns, TurnRecord(turn_id, content_id, False)))
        case QuestionAnswered(turn_id=turn_id):
            turns = tuple(_answered(turn, turn_id) for turn in state.turns)
            return replace(state, turns=turns)
        case ConversationForgotten():
            return replace(state, turns=())
    return state


def _answered(turn: TurnRecord, turn_id: UUID) -> TurnRecord:
    return replace(turn, answered=True) if turn.turn_id == turn_id else turn


def replay(events: Iterable[Event]) -> Conversation | None:
    return fold(evolve, events)


def record_turn(
    state: Conversation | None,
    chat_id: UUID,
    user_id: UUID,
    turn_id: UUID,
    content_id: UUID,
    question_tokens: int,
    outcome: Outcome,
) -> list[Event]:
    """The two events of a finished turn; nothing if this turn is already recorded."""
    conversation_id = conversation_id_for(chat_id, user_id)
    version = state.version if state is not None else 0
    if state is not None and any(turn.turn_id == turn_id for turn in state.turns):
        return []
    asked = QuestionAsked(
        **next_event_fields(conversation_id, version),
        turn_id=turn_id,
        chat_id=chat_id,
        user_id=user_id,
        content_id=content_id,
        question_tokens=question_tokens,
    )
    return [asked, _ending(conversation_id, version + 1, turn_id, outcome)]


def _ending(conversation_id: UUID, version: int, turn_id: UUID, outcome: Outcome) -> Event:
    fields = next_event_fields(conversation_id, version)
    if outcome.error is not None:
        return QuestionFailed(**fields, turn_id=turn_id, error=outcome.error)
    return QuestionAnswered(
        **fields,
        turn_id=turn_id,
        model=outcome.model,
        prompt_tokens=outcome.prompt_tokens,
        output_tokens=outcome.output_tokens,
        thinking_tokens=outcome.thinking_tokens,
        latency_ms=outcome.latency_ms,
        offline=outcome.offline,
        confidence=outcome.confidence,
        sources=[source.as_payload() for source in outcome.sources],
    )


def forget(state: Conversation | None) -> list[Event]:
    """Forget every turn; nothing when there is none to forget."""
    if state is None or not state.turns:
        return []
    return [
        ConversationForgotten(
            **next_event_fields(state.id, state.version),
            chat_id=state.chat_id,
            user_id=state.user_id,
            turns=len(state.turns),
        )
    ]
