"""Gemini answers as a stream (`generate_content_stream`, server-sent events), with our own retries.

The SDK's retry policy only wraps opening the request, and a retry after text has reached the
reader would show it twice. So a stream is opened with the SDK's retries turned off and retried
here, and only while nothing has been yielded: a 503, a timeout or a dropped connection before the
first piece is tried again after a backoff, up to `attempts` in all; after the first piece the
stream fails with `LlmUnavailable` and the caller records the turn as failed. The client's timeout
(seconds) bounds connecting and each wait for the next piece, not the whole answer.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass, field

from google import genai
from google.genai import types

from relivchats.adapters.llm.base import LlmAnswer, LlmInvalidOutput, LlmUnavailable
from relivchats.adapters.llm.gemini_errors import provider_errors

# Per request: the SDK tries once, this module decides about trying again.
NO_SDK_RETRY = types.HttpOptions(retry_options=types.HttpRetryOptions(attempts=1))


@dataclass(frozen=True)
class StreamRetry:
    attempts: int = 3  # including the first
    initial_backoff_s: float = 1.0
    max_backoff_s: float = 20.0
    jitter_s: float = 1.0

    def backoff_s(self, failures: int) -> float:
        doubled = min(self.max_backoff_s, self.initial_backoff_s * 2.0 ** (failures - 1))
        return doubled + random.uniform(0, self.jitter_s)  # noqa: S311 (jitter, not security)


@dataclass
class _Received:
    """What one attempt has produced so far: the pieces yielded and the latest chunk."""

    pieces: list[str] = field(default_factory=list)
    last: types.GenerateContentResponse | None = None


async def stream_answer(
    client: genai.Client,
    model: str,
    prompt: str,
    config: types.GenerateContentConfig,
    retry: StreamRetry,
) -> AsyncGenerator[str | LlmAnswer, None]:
    """The answer's text pieces as Gemini sends them, then one `LlmAnswer`."""
    started = time.perf_counter()
    config = config.model_copy(update={"http_options": NO_SDK_RETRY})
    received = _Received()
    for failures in range(1, retry.attempts + 1):
        try:
            with provider_errors():
                async with aclosing(_pieces(client, model, prompt, config, received)) as pieces:
                    async for piece in pieces:
                        yield piece
            _refuse_unfinished(received)
            break
        except LlmUnavailable:
            if received.pieces or failures == retry.attempts:
                raise
            await asyncio.sleep(retry.backoff_s(failures))
    yield _answer(received, model, started)


async def _pieces(
    client: genai.Client,
    model: str,
    prompt: str,
    config: types.GenerateContentConfig,
    received: _Received,
) -> AsyncGenerator[str, None]:
    stream = await client.aio.models.generate_content_stream(
        model=model, contents=prompt, config=config
    )
    try:
        async for chunk in stream:
            received.last = chunk
            if chunk.text:
                received.pieces.append(chunk.text)
                yield chunk.text
    finally:
        if isinstance(stream, AsyncGenerator):
            await stream.aclose()  # a reader who left must not keep the model writing


def _answer(received: _Received, model: str, started: float) -> LlmAnswer:
    last = received.last
    usage = last.usage_metadata if last else None
    return LlmAnswer(
        text="".join(received.pieces).strip(),
        model=(last and last.model_version) or model,
        prompt_tokens=(usage and usage.prompt_token_count) or 0,
        output_tokens=(usage and usage.candidates_token_count) or 0,
        thinking_tokens=(usage and usage.thoughts_token_count) or 0,
        latency_ms=round((time.perf_counter() - started) * 1000),
        offline=False,
    )


def _refuse_unfinished(received: _Received) -> None:
    """Blocked, cut off or empty answers are refused, as without streaming; a stream that just
    stopped (no finish reason) is provider trouble."""
    last = received.last
    if last is None or not last.candidates:
        reason = last and last.prompt_feedback and last.prompt_feedback.block_reason
        raise LlmInvalidOutput(f"Gemini returned no answer (blocked: {reason})")
    finish = last.candidates[0].finish_reason
    if finish is None:
        raise LlmUnavailable("Gemini's stream ended before the answer did")
    if finish != types.FinishReason.STOP:
        raise LlmInvalidOutput(f"Gemini stopped early: {finish}")
    if not "".join(received.pieces).strip():
        raise LlmInvalidOutput("Gemini returned an empty answer")
