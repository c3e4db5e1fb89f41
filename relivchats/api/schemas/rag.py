"""Request and response schemas of `/api/rag`, and how answers and turns become them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import orjson
from pydantic import BaseModel, Field

from relivchats.adapters.conversation_content import TurnText
from relivchats.adapters.indexing_progress import IndexingProgress
from relivchats.api.schemas.chats import ExportTime
from relivchats.commands.rag_answers import AnswerRecorded, IndexingUnderway, Source

Confidence = Literal["high", "medium", "low"]


class RagQuery(BaseModel):
    chat_id: UUID
    question: str = Field(min_length=1, max_length=1000)
    max_chunks: int = Field(default=5, ge=1, le=10, description="chunks retrieved as context")


class SourceView(BaseModel):
    chunk_index: int
    speakers: list[str] = Field(description="who speaks in the chunk, by participant name")
    start: ExportTime
    end: ExportTime
    message_count: int
    similarity: float = Field(description="cosine similarity of the question to the chunk")


class RagAnswer(BaseModel):
    answer: str
    sources: list[SourceView]
    confidence: Confidence = Field(description="from the sources' similarities (see README)")
    response_time_ms: int
    turn_id: UUID
    position: int


class Progress(BaseModel):
    stored: int = Field(description="chunks embedded so far")
    total: int = Field(description="chunks the chat makes")
    percent: int


class IndexingInProgress(BaseModel):
    status: Literal["indexing"] = "indexing"
    progress: Progress | None = Field(description="null while the indexing run is queued")
    retry_after_s: int
    position: int


class TurnView(BaseModel):
    turn_id: UUID
    status: Literal["answered", "failed"]
    question: str | None = Field(description="null if its text was erased")
    answer: str | None = Field(description="null for a failed turn")
    asked_at: datetime
    confidence: Confidence | None
    sources: list[SourceView]
    model: str | None
    offline: bool | None
    latency_ms: int | None
    error: str | None


class Conversation(BaseModel):
    chat_id: UUID
    turns: list[TurnView] = Field(description="oldest first; the newest is last")
    next_cursor: str | None = Field(description="older turns: pass it as `cursor`")


class ConversationForgotten(BaseModel):
    chat_id: UUID
    turns_forgotten: int
    position: int


def source_view(source: Source) -> SourceView:
    return SourceView(
        chunk_index=source.chunk_index,
        speakers=list(source.speakers),
        start=source.start,
        end=source.end,
        message_count=source.message_count,
        similarity=source.similarity,
    )


def answer_view(recorded: AnswerRecorded) -> RagAnswer:
    return RagAnswer(
        answer=recorded.answer,
        sources=[source_view(source) for source in recorded.sources],
        confidence=recorded.confidence,
        response_time_ms=recorded.response_time_ms,
        turn_id=recorded.turn_id,
        position=recorded.position,
    )


def indexing_view(underway: IndexingUnderway) -> IndexingInProgress:
    progress = underway.progress
    return IndexingInProgress(
        progress=_progress(progress) if progress else None,
        retry_after_s=underway.retry_after_s,
        position=underway.position,
    )


def _progress(progress: IndexingProgress) -> Progress:
    return Progress(stored=progress.stored, total=progress.total, percent=progress.percent)


def turn_view(row: Any, text: TurnText | None, participants: list[str]) -> TurnView:
    return TurnView(
        turn_id=row["turn_id"],
        status=row["status"],
        question=text.question if text else None,
        answer=text.answer if text else None,
        asked_at=row["asked_at"],
        confidence=row["confidence"],
        sources=[_stored_source(item, participants) for item in _json(row["sources"])],
        model=row["model"],
        offline=row["offline"],
        latency_ms=row["latency_ms"],
        error=row["error"],
    )


def _stored_source(item: dict[str, Any], participants: list[str]) -> SourceView:
    return SourceView(
        chunk_index=item["chunk_index"],
        speakers=[participants[i] for i in item["speakers"] if i < len(participants)],
        start=datetime.fromisoformat(item["start"]),
        end=datetime.fromisoformat(item["end"]),
        message_count=item["message_count"],
        similarity=item["similarity"],
    )


def _json(value: Any) -> list[dict[str, Any]]:
    return list(orjson.loads(value)) if isinstance(value, str | bytes) else list(value)
