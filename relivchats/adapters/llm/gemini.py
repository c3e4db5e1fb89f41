"""Google Gemini through `google-genai`: structured insights and RAG answers.

One `genai.Client` per process: workers call the sync methods, the API the `*_async` ones (which
use `client.aio`). The SDK has no default timeout and does not retry unless told to, so the client
is always built with an explicit timeout (milliseconds) and retry policy. After the SDK's own
retries, provider trouble surfaces as `LlmUnavailable` so the caller's task retry can take over.
Streamed answers retry on their own terms (gemini_stream.py): only before their first piece.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from google import genai
from google.genai import types

from relivchats.adapters.llm.base import (
    InsightMaterial,
    LlmAnswer,
    LlmInvalidOutput,
    LlmResult,
    Passage,
    Turn,
)
from relivchats.adapters.llm.gemini_errors import RETRYABLE_STATUS, provider_errors
from relivchats.adapters.llm.gemini_stream import StreamRetry, stream_answer
from relivchats.adapters.llm.prompts import ANSWER_SYSTEM, INSIGHT_SYSTEM, build_question_prompt
from relivchats.domain.catalogue import schema_problems

# provider_errors and RETRYABLE_STATUS live in gemini_errors; still importable from here.
__all__ = [
    "RETRYABLE_STATUS",
    "GeminiConnection",
    "GeminiLlm",
    "make_client",
    "provider_errors",
    "stream_retry_of",
]


@dataclass(frozen=True)
class GeminiConnection:
    api_key: str
    base_url: str | None = None  # tests point this at a local fake server
    timeout_s: float = 60.0
    attempts: int = 3  # including the first; the SDK retries RETRYABLE_STATUS and timeouts
    initial_backoff_s: float = 1.0
    max_backoff_s: float = 20.0
    jitter_s: float = 1.0  # random extra wait per retry, so many workers don't retry in step


def stream_retry_of(connection: GeminiConnection) -> StreamRetry:
    return StreamRetry(
        connection.attempts,
        connection.initial_backoff_s,
        connection.max_backoff_s,
        connection.jitter_s,
    )


def make_client(connection: GeminiConnection) -> genai.Client:
    retry = types.HttpRetryOptions(
        attempts=connection.attempts,
        initial_delay=connection.initial_backoff_s,
        max_delay=connection.max_backoff_s,
        jitter=connection.jitter_s,
        http_status_codes=list(RETRYABLE_STATUS),
    )
    options = types.HttpOptions(
        timeout=int(connection.timeout_s * 1000), base_url=connection.base_url, retry_options=retry
    )
    return genai.Client(api_key=connection.api_key, http_options=options)


class GeminiLlm:
    def __init__(
        self,
        client: genai.Client,
        model: str = "gemini-2.5-flash",
        temperature: float = 0.4,
        max_output_tokens: int = 8192,
        thinking_budget: int | None = None,
        stream_retry: StreamRetry | None = None,
    ):
        self._client = client
        self._stream_retry = stream_retry or StreamRetry()
        self._model = model
        self._temperature = temperature
        self._max_output_tokens = max_output_tokens
        self._thinking_budget = thinking_budget

    def generate_json(
        self, prompt: str, schema: Mapping[str, Any], *, material: InsightMaterial
    ) -> LlmResult:
        started = time.perf_counter()
        with provider_errors():
            response = self._client.models.generate_content(
                model=self._model, contents=prompt, config=self._json_config(schema)
            )
        return self._json_result(response, schema, started)

    async def generate_json_async(
        self, prompt: str, schema: Mapping[str, Any], *, material: InsightMaterial
    ) -> LlmResult:
        started = time.perf_counter()
        with provider_errors():
            response = await self._client.aio.models.generate_content(
                model=self._model, contents=prompt, config=self._json_config(schema)
            )
        return self._json_result(response, schema, started)

    def answer(
        self, question: str, context: Sequence[Passage], history: Sequence[Turn]
    ) -> LlmAnswer:
        started = time.perf_counter()
        with provider_errors():
            response = self._client.models.generate_content(
                model=self._model,
                contents=build_question_prompt(question, context, history),
                config=self._config(ANSWER_SYSTEM),
            )
        return self._answer_result(response, started)

    async def answer_async(
        self, question: str, context: Sequence[Passage], history: Sequence[Turn]
    ) -> LlmAnswer:
        started = time.perf_counter()
        with provider_errors():
            response = await self._client.aio.models.generate_content(
                model=self._model,
                contents=build_question_prompt(question, context, history),
                config=self._config(ANSWER_SYSTEM),
            )
        return self._answer_result(response, started)

    async def answer_stream_async(
        self, question: str, context: Sequence[Passage], history: Sequence[Turn]
    ) -> AsyncIterator[str | LlmAnswer]:
        prompt = build_question_prompt(question, context, history)
        stream = stream_answer(
            self._client, self._model, prompt, self._config(ANSWER_SYSTEM), self._stream_retry
        )
        async with aclosing(stream) as items:  # a reader who leaves closes the request
            async for item in items:
                yield item

    def _config(self, system: str, **extra: Any) -> types.GenerateContentConfig:
        thinking = (
            types.ThinkingConfig(thinking_budget=self._thinking_budget)
            if self._thinking_budget is not None
            else None
        )
        return types.GenerateContentConfig(
            system_instruction=system,
            temperature=self._temperature,
            max_output_tokens=self._max_output_tokens,
            thinking_config=thinking,
            **extra,
        )

    def _json_config(self, schema: Mapping[str, Any]) -> types.GenerateContentConfig:
        return self._config(
            INSIGHT_SYSTEM, response_mime_type="application/json", response_json_schema=dict(schema)
        )

    def _json_result(
        self, response: types.GenerateContentResponse, schema: Mapping[str, Any], started: float
    ) -> LlmResult:
        data = _parse_json(_text_of(response))
        problems = schema_problems(dict(schema), data)
        if problems:
            raise LlmInvalidOutput("Gemini's JSON does not match the schema", problems)
        return LlmResult(data=data, **self._metadata(response, started))

    def _answer_result(self, response: types.GenerateContentResponse, started: float) -> LlmAnswer:
        return LlmAnswer(text=_text_of(response).strip(), **self._metadata(response, started))

    def _metadata(self, response: types.GenerateContentResponse, started: float) -> dict[str, Any]:
        usage = response.usage_metadata
        return {
            "model": response.model_version or self._model,
            "prompt_tokens": (usage and usage.prompt_token_count) or 0,
            "output_tokens": (usage and usage.candidates_token_count) or 0,
            "thinking_tokens": (usage and usage.thoughts_token_count) or 0,
            "latency_ms": round((time.perf_counter() - started) * 1000),
            "offline": False,
        }


def _text_of(response: types.GenerateContentResponse) -> str:
    """The answer's text, refusing blocked, cut-off or empty answers."""
    if not response.candidates:
        reason = response.prompt_feedback and response.prompt_feedback.block_reason
        raise LlmInvalidOutput(f"Gemini returned no answer (blocked: {reason})")
    finish = response.candidates[0].finish_reason
    if finish not in (None, types.FinishReason.STOP):
        raise LlmInvalidOutput(f"Gemini stopped early: {finish}")
    if not response.text:
        raise LlmInvalidOutput("Gemini returned an empty answer")
    return response.text


def _parse_json(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LlmInvalidOutput(f"Gemini returned invalid JSON: {exc.msg}") from exc
    if not isinstance(data, dict):
        raise LlmInvalidOutput("Gemini returned JSON that is not an object")
    return data
