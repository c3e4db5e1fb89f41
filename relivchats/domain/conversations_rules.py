"""What each conversation command decides: a finished turn's two events, and forgetting.

A turn is recorded once (a repeat of its `turn_id` records nothing) as `QuestionAsked` with
`QuestionAnswered` or `QuestionFailed`, in one save. How confident an answer is follows from the
similarities of the chunks it drew on (`confidence_of`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from relivchats.domain.conversations import (
    Conversation,
    ConversationForgotten,
    QuestionAnswered,
    QuestionAsked,
    QuestionFailed,
    SourceRange,
    conversation_id_for,
)
from relivchats.domain.events import Event, next_event_fields

# Cosine similarity of the question to a chunk. Calibrated on all-MiniLM-L6-v2 over chat text,
# where a chunk that answers the question scores about 0.5-0.7 and an unrelated one under 0.3.
HIGH_SIMILARITY = 0.55
MEDIUM_SIMILARITY = 0.35
SUPPORTING_CHUNKS = 3


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
