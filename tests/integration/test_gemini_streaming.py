"""Streamed answers from Gemini through the real `google-genai` SDK, against the local fake server:
pieces arrive in order and end with one `LlmAnswer`; a 503 before the first piece is retried, one
after it is not; a stall (before or mid-stream) becomes `LlmUnavailable`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from relivchats.adapters.llm import (
    LlmAnswer,
    LlmError,
    LlmInvalidOutput,
    LlmUnavailable,
    Passage,
    QuotedMessage,
    Turn,
    make_llm,
)
from relivchats.adapters.llm.gemini import GeminiLlm, make_client, stream_retry_of
from tests.fakes.gemini_server import GeminiServer

START = datetime(2024, 1, 1, 21, 0, tzinfo=UTC)
STREAM_PATH = ":streamGenerateContent?alt=sse"
PASSAGE = Passage(
    "Asha: Goa in March?\nRahul: yes!",
    START,
    START + timedelta(minutes=2),
    ("Asha", "Rahul"),
    messages=(
        QuotedMessage("Asha", START, "Goa in March?"),
        QuotedMessage("Rahul", START + timedelta(minutes=2), "yes!"),
    ),
    similarity=0.71,
)


@pytest.fixture
def server():
    with GeminiServer() as fake:
        yield fake


def llm(server: GeminiServer, **overrides: object) -> GeminiLlm:
    connection = server.connection(**overrides)
    return GeminiLlm(make_client(connection), stream_retry=stream_retry_of(connection))


async def collect(llm: GeminiLlm, question: str = "When is Goa?") -> tuple[list[str], LlmAnswer]:
    items = [item async for item in llm.answer_stream_async(question, [PASSAGE], [])]
    *pieces, last = items
    assert isinstance(last, LlmAnswer)
    assert all(isinstance(piece, str) for piece in pieces)
    return pieces, last  # type: ignore[return-value]


async def drain(stream: AsyncIterator[str | LlmAnswer], into: list[str]) -> None:
    """Collect the pieces until the stream fails (or, wrongly, finishes)."""
    async for item in stream:
        assert isinstance(item, str)
        into.append(item)


async def test_pieces_arrive_in_order_then_one_answer_with_usage(server):
    server.stream_text(["You planned ", "Goa for ", "March."], prompt_tokens=64, output_tokens=9)

    pieces, answer = await collect(llm(server))

    assert pieces == ["You planned ", "Goa for ", "March."]
    assert answer.text == "You planned Goa for March."
    assert (answer.prompt_tokens, answer.output_tokens, answer.thinking_tokens) == (64, 9, 15)
    assert answer.model == "gemini-2.5-flash-fake" and answer.offline is False
    [call] = server.calls_to(STREAM_PATH)
    assert "/models/gemini-2.5-flash:streamGenerateContent" in call.path
    assert call.headers["x-goog-api-key"] == "test-key"


async def test_the_prompt_carries_messages_with_senders_times_and_history(server):
    server.stream_text(["ok"])
    stream = llm(server).answer_stream_async("When?", [PASSAGE], [Turn("Hi", "Hello")])
    [item async for item in stream]

    prompt = server.calls_to(STREAM_PATH)[0].body["contents"][0]["parts"][0]["text"]
    assert "2024-01-01T21:00+00:00 Asha: Goa in March?" in prompt
    assert "Q: Hi\nA: Hello" in prompt and prompt.endswith("Question: When?")


async def test_a_503_before_the_first_piece_is_retried(server):
    server.fail(503)
    server.stream_text(["Second ", "time lucky."])

    pieces, answer = await collect(llm(server))

    assert answer.text == "Second time lucky." and pieces == ["Second ", "time lucky."]
    assert len(server.calls_to(STREAM_PATH)) == 2


async def test_retries_are_bounded_then_unavailable(server):
    server.fail(503, times=3)
    with pytest.raises(LlmUnavailable):
        await collect(llm(server, attempts=3))
    assert len(server.calls_to(STREAM_PATH)) == 3  # ours alone: the SDK's are off for streams


async def test_a_503_after_pieces_were_sent_fails_without_a_retry(server):
    server.stream_then_fail(["You planned ", "Goa "], status=503)
    server.stream_text(["never ", "asked for"])
    received: list[str] = []

    stream = llm(server).answer_stream_async("When is Goa?", [PASSAGE], [])
    with pytest.raises(LlmUnavailable):
        await drain(stream, received)

    assert received == ["You planned ", "Goa "]
    assert len(server.calls_to(STREAM_PATH)) == 1


async def test_a_stall_before_the_answer_is_a_timeout_then_unavailable(server):
    server.stall(2.0, times=2)
    with pytest.raises(LlmUnavailable):
        await collect(llm(server, timeout_s=0.3, attempts=2))
    assert len(server.calls_to(STREAM_PATH)) == 2


async def test_a_stall_mid_stream_fails_after_the_timeout_without_a_retry(server):
    server.stream_then_stall(["You planned "], seconds=2.0)
    received: list[str] = []

    stream = llm(server, timeout_s=0.3).answer_stream_async("Goa?", [PASSAGE], [])
    with pytest.raises(LlmUnavailable):
        await drain(stream, received)

    assert received == ["You planned "]
    assert len(server.calls_to(STREAM_PATH)) == 1


async def test_an_answer_cut_off_by_the_token_limit_is_refused(server):
    server.stream_text(["You planned ", "Goa for"], finish_reason="MAX_TOKENS")
    with pytest.raises(LlmInvalidOutput, match="stopped early"):
        await collect(llm(server))


async def test_a_bad_request_is_refused_and_not_retried(server):
    server.fail(400)
    with pytest.raises(LlmError) as raised:
        await collect(llm(server))
    assert not isinstance(raised.value, LlmUnavailable)
    assert len(server.calls_to(STREAM_PATH)) == 1


async def test_a_reader_who_leaves_early_closes_the_connection(server):
    server.stream_then_stall(["one ", "two "], seconds=5.0)
    stream = llm(server).answer_stream_async("Goa?", [PASSAGE], [])

    first = await anext(stream)
    await asyncio.wait_for(stream.aclose(), timeout=0.5)  # type: ignore[attr-defined]

    assert first == "one "
    for _ in range(40):  # the fake notices the closed connection within its 50 ms polls
        if server.hung_up:
            break
        await asyncio.sleep(0.05)
    assert server.hung_up == 1


async def test_make_llm_streams_through_gemini_when_a_key_is_set(server):
    server.stream_text(["Through ", "make_llm."])
    provider = make_llm("test-key", base_url=server.base_url, timeout_s=5, attempts=2)
    items = [item async for item in provider.answer_stream_async("Goa?", [PASSAGE], [])]
    assert items[:-1] == ["Through ", "make_llm."]
    assert isinstance(items[-1], LlmAnswer) and items[-1].text == "Through make_llm."
