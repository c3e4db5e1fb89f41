"""The generation step with Gemini (the real SDK against the local fake server): the prompt carries
the chat's statistics and retrieved messages, the request the type's schema, and the result its
usage; an answer outside the schema is refused."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from relivchats.adapters.crypto import ContentCipher
from relivchats.adapters.llm import InsightMaterial, LlmInvalidOutput, ParticipantFigures, make_llm
from relivchats.adapters.llm.offline import write_insight as offline_insight
from relivchats.domain import chats
from relivchats.domain.catalogue import insight_type
from relivchats.domain.insights import InsightJob
from relivchats.workers.generation import write_insight
from tests.chat_uploads import export_of, uploaded
from tests.fakes.chat_exports import generate_chat
from tests.fakes.gemini_server import GeminiServer
from tests.helpers import auth

KIND = "love_language"


@pytest.fixture
def server():
    with GeminiServer() as running:
        yield running


def a_valid_answer() -> dict[str, object]:
    material = InsightMaterial(KIND, (ParticipantFigures("Asha", 10), ParticipantFigures("Ben", 8)))
    return offline_insight(insight_type(KIND).output_schema, material)


def a_job(chat_id: uuid.UUID) -> InsightJob:
    return InsightJob(
        id=uuid.uuid4(),
        version=3,
        user_id=uuid.uuid4(),
        chat_id=chat_id,
        category="romantic",
        insight_types=(KIND,),
        reservation_id=uuid.uuid4(),
        cost=67,
        expires_at=datetime.now(UTC),
        retry_of=None,
        requested_at=datetime.now(UTC),
        status="generating",
        excerpts={KIND: ((0, 12),)},
    )


async def a_stored_chat(client, store, token_for, subject):
    messages = generate_chat(40, seed=21, participants=("Asha", "Ben"))
    body = await uploaded(client, auth(token_for(subject)), export_of(messages))
    chat = chats.replay(store.load(uuid.UUID(body["chat"]["chat_id"])))
    assert chat is not None
    return chat, messages


async def test_gemini_writes_the_insight_from_the_chats_figures_and_excerpts(
    server, settings, client, store, token_for, subject
):
    chat, messages = await a_stored_chat(client, store, token_for, subject)
    server.answer_json(a_valid_answer(), prompt_tokens=1500, output_tokens=400, thinking_tokens=90)
    llm = make_llm("test-key", base_url=server.base_url, timeout_s=5, attempts=1)

    written = write_insight(
        llm, ContentCipher.from_settings(settings), settings, a_job(chat.id), chat, KIND
    )

    assert written.insight == a_valid_answer()
    result = written.result
    assert (result.prompt_tokens, result.output_tokens, result.thinking_tokens) == (1500, 400, 90)
    assert result.offline is False
    assert 0 < written.excerpts_used <= 12
    [call] = server.calls_to(":generateContent")
    assert call.body["generationConfig"]["responseJsonSchema"] == insight_type(KIND).output_schema
    prompt = call.body["contents"][0]["parts"][0]["text"]
    assert "\n- Asha: " in prompt
    assert "\n- Ben: " in prompt
    assert messages[0].text.splitlines()[0][:30] in prompt  # a retrieved message, quoted


async def test_an_answer_outside_the_types_schema_is_refused(
    server, settings, client, store, token_for, subject
):
    chat, _ = await a_stored_chat(client, store, token_for, subject)
    server.answer_json({"overall": {"score": 11, "summary": "x", "status": "great"}})
    llm = make_llm("test-key", base_url=server.base_url, timeout_s=5, attempts=1)

    with pytest.raises(LlmInvalidOutput):
        write_insight(
            llm, ContentCipher.from_settings(settings), settings, a_job(chat.id), chat, KIND
        )
