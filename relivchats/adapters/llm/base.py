"""What the rest of RelivChats asks of a language model, and what it gets back.

Two jobs: `generate_json` writes one insight that must match a JSON schema (workers, sync), and
`answer` replies to a question about a chat from retrieved passages (API, async). Every provider
offers both in sync and async form so each process can use the flavour that suits its loop, and
answers also as a stream (`answer_stream_async`): text pieces as they come, then exactly one
`LlmAnswer` (the whole text and how it was produced) as the last item.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


class LlmError(Exception):
    """The model could not produce an acceptable answer; not worth retrying as is."""


class LlmUnavailable(LlmError):
    """The provider is down, overloaded, rate limiting or too slow: retry later with backoff."""


class LlmInvalidOutput(LlmError):
    """The model answered, but not with what was asked (bad JSON, schema violations, blocked)."""

    def __init__(self, message: str, problems: Sequence[str] = ()):
        super().__init__(message)
        self.problems = list(problems)


@dataclass(frozen=True)
class Excerpt:
    """One message retrieved from the chat, shown to the model as evidence it may quote."""

    speaker: str
    text: str
    timestamp: datetime


@dataclass(frozen=True)
class ParticipantFigures:
    """The few per-person numbers every insight prompt (and the offline writer) relies on."""

    name: str
    messages: int
    words: int = 0
    initiations: int = 0
    questions: int = 0
    avg_response_s: float | None = None
    double_texting_rate: float = 0.0


@dataclass(frozen=True)
class InsightMaterial:
    """Everything known about a chat that one insight may use."""

    insight_type: str
    participants: tuple[ParticipantFigures, ...]
    # The statistics the insight type asks for (catalogue `statistics`), keyed by those names.
    statistics: Mapping[str, Any] = field(default_factory=dict)
    excerpts: tuple[Excerpt, ...] = ()
    user_name: str | None = None  # which participant is the reader, when they told us


@dataclass(frozen=True)
class QuotedMessage:
    """One decrypted message of a retrieved passage, as the answer may quote it."""

    sender: str
    sent_at: datetime
    text: str


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk of the chat, as context for a question: its messages in time order
    (when the caller has them) and how similar the search found it to the question (0-1)."""

    text: str
    start_time: datetime
    end_time: datetime
    speakers: tuple[str, ...]
    messages: tuple[QuotedMessage, ...] = ()
    similarity: float = 0.0


@dataclass(frozen=True)
class Turn:
    question: str
    answer: str


@dataclass(frozen=True, kw_only=True)
class Generation:
    """How an answer was produced: recorded with every insight and every RAG reply."""

    model: str
    prompt_tokens: int
    output_tokens: int
    thinking_tokens: int
    latency_ms: int
    offline: bool


@dataclass(frozen=True, kw_only=True)
class LlmResult(Generation):
    data: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class LlmAnswer(Generation):
    text: str


class LlmProvider(Protocol):
    def generate_json(
        self, prompt: str, schema: Mapping[str, Any], *, material: InsightMaterial
    ) -> LlmResult:
        """Return data valid against `schema`, or raise an `LlmError`."""
        ...

    def answer(
        self, question: str, context: Sequence[Passage], history: Sequence[Turn]
    ) -> LlmAnswer: ...

    async def generate_json_async(
        self, prompt: str, schema: Mapping[str, Any], *, material: InsightMaterial
    ) -> LlmResult: ...

    async def answer_async(
        self, question: str, context: Sequence[Passage], history: Sequence[Turn]
    ) -> LlmAnswer: ...

    def answer_stream_async(
        self, question: str, context: Sequence[Passage], history: Sequence[Turn]
    ) -> AsyncIterator[str | LlmAnswer]:
        """Text pieces as they come, then one `LlmAnswer` with the whole text, last.

        Raises `LlmUnavailable` on provider trouble (after the provider's own retries, which
        only happen before the first piece), `LlmError` when the model's answer is unusable.
        """
        ...
