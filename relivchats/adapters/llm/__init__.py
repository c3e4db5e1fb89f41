"""Language models: Gemini when an API key is configured, the offline writer otherwise."""

from __future__ import annotations

from relivchats.adapters.llm.base import (
    Excerpt,
    Generation,
    InsightMaterial,
    LlmAnswer,
    LlmError,
    LlmInvalidOutput,
    LlmProvider,
    LlmResult,
    LlmUnavailable,
    ParticipantFigures,
    Passage,
    QuotedMessage,
    Turn,
)
from relivchats.adapters.llm.offline import OfflineLlm
from relivchats.adapters.llm.prompts import build_insight_prompt, build_question_prompt

__all__ = [
    "Excerpt",
    "Generation",
    "InsightMaterial",
    "LlmAnswer",
    "LlmError",
    "LlmInvalidOutput",
    "LlmProvider",
    "LlmResult",
    "LlmUnavailable",
    "OfflineLlm",
    "ParticipantFigures",
    "Passage",
    "QuotedMessage",
    "Turn",
    "build_insight_prompt",
    "build_question_prompt",
    "make_llm",
]


def make_llm(
    api_key: str | None,
    model: str = "gemini-2.5-flash",
    base_url: str | None = None,
    timeout_s: float = 60.0,
    attempts: int = 3,
) -> LlmProvider:
    """The provider this process should use; the SDK is imported only when a key is set."""
    if not api_key:
        return OfflineLlm()
    from relivchats.adapters.llm.gemini import (
        GeminiConnection,
        GeminiLlm,
        make_client,
        stream_retry_of,
    )

    connection = GeminiConnection(api_key, base_url, timeout_s, attempts)
    return GeminiLlm(make_client(connection), model=model, stream_retry=stream_retry_of(connection))
