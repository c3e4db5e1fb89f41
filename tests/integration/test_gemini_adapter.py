"""The Gemini adapters through the real `google-genai` SDK, against a local fake of the REST API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from relivchats.adapters.embeddings import GeminiEmbedder
from relivchats.adapters.llm import (
    InsightMaterial,
    LlmError,
    LlmInvalidOutput,
    LlmUnavailable,
    OfflineLlm,
    ParticipantFigures,
    Passage,
    Turn,
    make_llm,
)
from relivchats.adapters.llm.gemini import GeminiLlm, make_client
from relivchats.domain.catalogue import insight_type
from tests.fakes.gemini_server import GeminiServer

SLUG = "love_language"
SCHEMA = insight_type(SLUG).output_schema
MATERIAL = InsightMaterial(
    insight_type=SLUG,
    participants=(ParticipantFigures("Asha", 300), ParticipantFigures("Rahul", 280)),
)
START = datetime(2024, 1, 1, 21, 0, tzinfo=UTC)


@pytest.fixture
def server():
    with GeminiServer() as fake:
        yield fake


def llm(server: GeminiServer, **overrides: object) -> GeminiLlm:
    return GeminiLlm(make_client(server.connection(**overrides)), model="gemini-2.5-flash")


def valid_insight() -> dict:
    return {
        "overall": {"score": 7.5, "summary": "Warm and steady.", "status": "healthy"},
        "love_languages": [
            {
                "name": "Asha",
                "primary": "words_of_affirmation",
                "secondary": "quality_time",
                "signs": ["Says she is proud of him"],
            },
            {
                "name": "Rahul",
                "primary": "acts_of_service",
                "secondary": "receiving_gifts",
                "signs": ["Books the tickets"],
            },
        ],
        "compatibility": "They give love differently but notice it.",
        "evidence": [
            {
                "speaker": "Asha",
                "message": "proud of you",
                "timestamp": "2024-01-01T21:00",
                "context": "Affirmation after his exam.",
            }
        ],
        "recommendations": [
            {
                "title": "Say it back",
                "target": ["Rahul"],
                "suggestion": "Name what you appreciate.",
                "example_phrases": [],
            }
        ],
    }


def test_structured_output_is_parsed_and_usage_recorded(server):
    server.answer_json(valid_insight(), prompt_tokens=900, output_tokens=321, thinking_tokens=77)

    result = llm(server).generate_json("Describe their love languages", SCHEMA, material=MATERIAL)

    assert result.data == valid_insight()
    assert (result.prompt_tokens, result.output_tokens, result.thinking_tokens) == (900, 321, 77)
    assert result.model == "gemini-2.5-flash-fake"
    assert result.offline is False
    assert result.latency_ms >= 0
    [call] = server.calls_to(":generateContent")
    assert "/models/gemini-2.5-flash:generateContent" in call.path
    assert call.headers["x-goog-api-key"] == "test-key"
    config = call.body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert config["responseJsonSchema"] == SCHEMA
    assert "relationship analyst" in call.body["systemInstruction"]["parts"][0]["text"]


def test_missing_thinking_count_reads_as_zero(server):
    server.answer_json(valid_insight(), thinking_tokens=None)
    assert llm(server).generate_json("p", SCHEMA, material=MATERIAL).thinking_tokens == 0


def test_a_503_is_retried_and_then_succeeds(server):
    server.fail(503)
    server.answer_json(valid_insight())

    result = llm(server).generate_json("p", SCHEMA, material=MATERIAL)

    assert result.data["overall"]["score"] == 7.5
    assert len(server.calls_to(":generateContent")) == 2


def test_persistent_503_surfaces_as_unavailable_after_the_attempts(server):
    server.fail(503, times=3)
    with pytest.raises(LlmUnavailable):
        llm(server, attempts=3).generate_json("p", SCHEMA, material=MATERIAL)
    assert len(server.calls_to(":generateContent")) == 3


def test_a_timeout_surfaces_as_unavailable(server):
    server.stall(2.0, times=2)
    with pytest.raises(LlmUnavailable):
        llm(server, timeout_s=0.2, attempts=2).generate_json("p", SCHEMA, material=MATERIAL)


def test_a_bad_request_is_not_retried(server):
    server.fail(400)
    with pytest.raises(LlmError) as raised:
        llm(server).generate_json("p", SCHEMA, material=MATERIAL)
    assert not isinstance(raised.value, LlmUnavailable)
    assert len(server.calls_to(":generateContent")) == 1


def test_output_that_breaks_the_schema_is_invalid(server):
    broken = valid_insight()
    broken["overall"]["score"] = 11
    del broken["compatibility"]
    server.answer_json(broken)

    with pytest.raises(LlmInvalidOutput) as raised:
        llm(server).generate_json("p", SCHEMA, material=MATERIAL)

    assert any("maximum" in problem for problem in raised.value.problems)
    assert any("compatibility" in problem for problem in raised.value.problems)


def test_text_that_is_not_json_is_invalid(server):
    server.answer_text("Sure! Here are their love languages: ...")
    with pytest.raises(LlmInvalidOutput, match="invalid JSON"):
        llm(server).generate_json("p", SCHEMA, material=MATERIAL)


def test_an_answer_cut_off_by_the_token_limit_is_invalid(server):
    server.answer_text('{"overall": {', finish_reason="MAX_TOKENS")
    with pytest.raises(LlmInvalidOutput, match="stopped early"):
        llm(server).generate_json("p", SCHEMA, material=MATERIAL)


async def test_async_answer_uses_the_context_and_history(server):
    server.answer_text("You planned Goa for March.", prompt_tokens=50, output_tokens=8)
    passage = Passage(
        "Asha: Goa in March?\nRahul: yes!", START, START + timedelta(minutes=2), ("Asha", "Rahul")
    )

    reply = await llm(server).answer_async("When is Goa?", [passage], [Turn("Hi", "Hello")])

    assert reply.text == "You planned Goa for March."
    assert (reply.prompt_tokens, reply.output_tokens) == (50, 8)
    prompt = server.calls_to(":generateContent")[0].body["contents"][0]["parts"][0]["text"]
    assert "Goa in March?" in prompt and "Q: Hi" in prompt and "Question: When is Goa?" in prompt


async def test_an_answer_after_a_503_is_retried_by_the_sdk(server):
    server.fail(503)
    server.answer_text("Goa, in March.")
    passage = Passage("Asha: Goa in March?", START, START, ("Asha",))

    reply = await llm(server).answer_async("When is Goa?", [passage], [])

    assert reply.text == "Goa, in March."
    assert len(server.calls_to(":generateContent")) == 2


async def test_an_answer_that_times_out_is_unavailable(server):
    server.stall(2.0, times=2)
    passage = Passage("Asha: Goa in March?", START, START, ("Asha",))
    with pytest.raises(LlmUnavailable):
        await llm(server, timeout_s=0.2, attempts=2).answer_async("When?", [passage], [])
    assert len(server.calls_to(":generateContent")) == 2


async def test_async_structured_output(server):
    server.answer_json(valid_insight())
    result = await llm(server).generate_json_async("p", SCHEMA, material=MATERIAL)
    assert result.data == valid_insight()


def test_embeddings_are_batched_and_sized(server):
    embedder = GeminiEmbedder(server.connection(), dimension=16, batch_size=100)

    vectors = embedder.embed_documents([f"chunk {n}" for n in range(230)])

    assert len(vectors) == 230 and {len(vector) for vector in vectors} == {16}
    calls = server.calls_to(":batchEmbedContents")
    assert [len(call.body["requests"]) for call in calls] == [100, 100, 30]
    assert calls[0].body["requests"][0]["taskType"] == "RETRIEVAL_DOCUMENT"


async def test_query_embedding_uses_the_query_task(server):
    embedder = GeminiEmbedder(server.connection(), dimension=16)
    assert embedder.embed_query("when is goa?") == await embedder.embed_query_async("when is goa?")
    assert server.calls_to(":batchEmbedContents")[0].body["requests"][0]["taskType"] == (
        "RETRIEVAL_QUERY"
    )


def test_no_key_means_the_offline_provider(server):
    assert isinstance(make_llm(None), OfflineLlm)
    assert isinstance(make_llm("key", base_url=server.base_url), GeminiLlm)
