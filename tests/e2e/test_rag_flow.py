"""Ask your chat, end to end: a real `relivchats indexer` process (the vector store's single
owner, serving searches on its socket), PostgreSQL and Redis; the API and the projector (with
the dispatcher) run in the test's loop. The model is the offline provider, or a fake provider
in this process where a test needs to see what the model was given or to answer slowly.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from relivchats.adapters.eventstore import EventStore
from relivchats.adapters.identity import mint_local_token
from relivchats.adapters.llm import LlmAnswer, OfflineLlm, Passage, Turn
from relivchats.api.app import create_app
from relivchats.api.rag_streaming import streamed_answer
from relivchats.commands.rag_answers import Question, Ready, prepare
from relivchats.domain.chats import ChatIndexed, IndexingRequested
from relivchats.domain.conversations import QuestionAnswered, conversation_id_for
from relivchats.logs import JsonFormatter
from tests.chat_uploads import export_of, uploaded
from tests.conftest import TEST_SECRET, throwaway_database
from tests.fakes.chat_exports import FakeMessage, generate_chat
from tests.helpers import eventually
from tests.insight_flows import user_with_coins
from tests.integration.test_privacy_canary import leaked_in_redis, leaked_in_tables
from tests.worker_platform import Workers, platform_settings, running_platform

pytestmark = pytest.mark.slow

MOVING = [
    ("Asha", "I think we should move to Bangalore next year, the new job is there"),
    ("Ben", "Moving to Bangalore? I would miss Pune so much"),
    ("Asha", "We can visit Pune every month, I promise"),
    ("Ben", "Okay, let us move in March after the lease ends"),
]


class Platform:
    def __init__(self, client: httpx.AsyncClient, workers: Workers, store: EventStore):
        self.client, self.workers, self.store = client, workers, store
        self.settings = workers.settings

    @property
    def app(self) -> Any:
        return self.client.app  # type: ignore[attr-defined]

    async def user(self) -> dict[str, str]:
        token = mint_local_token(
            TEST_SECRET,
            f"rag-{uuid.uuid4().hex}",
            issuer=self.settings.jwt_issuer,
            audience=self.settings.jwt_audience,
        )
        _, headers = await user_with_coins(self.client, self.app.state.event_store, token)
        return headers

    async def chat(
        self, headers: dict[str, str], seed: int, extra: Sequence[tuple[str, str]] = MOVING
    ) -> str:
        messages = generate_chat(160, seed=seed, participants=("Asha", "Ben"))
        moment = messages[-1].timestamp + timedelta(hours=7)
        for offset, (sender, text) in enumerate(extra):
            messages.append(FakeMessage(moment + timedelta(minutes=offset), sender, text))
        body = await uploaded(self.client, headers, export_of(messages))
        return str(body["chat"]["chat_id"])

    async def ask(
        self, headers: dict[str, str], chat_id: str, question: str, **extra: Any
    ) -> httpx.Response:
        body = {"chat_id": chat_id, "question": question, **extra}
        return await self.client.post("/api/rag/query", json=body, headers=headers)

    async def answered(self, headers: dict[str, str], chat_id: str, question: str) -> Any:
        """Ask until the chat is indexed (202s, as a client would; a 503 while the API loads its
        embedder is retried too), then the 200's body."""
        seen: dict[str, Any] = {}

        async def answered() -> bool:
            response = await self.ask(headers, chat_id, question)
            assert response.status_code in (200, 202, 503), response.text
            if response.status_code == 503:
                assert response.headers["Retry-After"]
            seen.update(status=response.status_code, body=response.json())
            return response.status_code == 200

        await eventually(answered, within=120)
        return seen["body"]


@pytest.fixture(scope="module")
async def platform(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Platform]:
    folder = tmp_path_factory.mktemp("rag-flow")
    with throwaway_database() as database_url:
        settings = platform_settings(
            database_url,
            folder,
            rate_limit_rag="1000/minute",
            # The PostgreSQL server is shared: take few connections (commands queue for them).
            eventstore_pool_size=3,
            api_db_pool_min=1,
            api_db_pool_max=4,
        )
        async with running_platform(settings, folder, indexer_only=True) as platform:
            yield Platform(*platform)


class RecordingLlm:
    """The offline provider, remembering what each question was given (history included)."""

    def __init__(self) -> None:
        self.offline = OfflineLlm()
        self.histories: list[tuple[Turn, ...]] = []

    async def answer_stream_async(
        self, question: str, context: Sequence[Passage], history: Sequence[Turn]
    ) -> AsyncIterator[str | LlmAnswer]:
        self.histories.append(tuple(history))
        async for item in self.offline.answer_stream_async(question, context, history):
            yield item


class SlowStreamingLlm:
    """Writes its answer in pieces, a pause apart: long enough for a client to leave."""

    def __init__(self, pieces: Sequence[str], pause_s: float):
        self.pieces, self.pause_s = pieces, pause_s

    async def answer_stream_async(
        self, question: str, context: Sequence[Passage], history: Sequence[Turn]
    ) -> AsyncIterator[str | LlmAnswer]:
        for piece in self.pieces:
            await asyncio.sleep(self.pause_s)
            yield piece
        yield LlmAnswer(
            text="".join(self.pieces),
            model="slow-fake",
            prompt_tokens=10,
            output_tokens=len(self.pieces),
            thinking_tokens=0,
            latency_ms=int(self.pause_s * 1000 * len(self.pieces)),
            offline=True,
        )


def sse_events(text: str) -> list[tuple[str, Any]]:
    events = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


async def test_ask_indexes_first_then_answers_with_sources_and_history(platform):
    headers = await platform.user()
    chat_id = await platform.chat(headers, seed=21)

    first = await platform.ask(headers, chat_id, "When did we talk about moving to Bangalore?")

    assert first.status_code == 202, first.text
    assert int(first.headers["Retry-After"]) > 0
    assert first.json()["status"] == "indexing"
    answer = await platform.answered(
        headers, chat_id, "When did we talk about moving to Bangalore?"
    )
    assert "Bangalore" in answer["answer"]
    assert answer["confidence"] in ("high", "medium", "low")
    assert 1 <= len(answer["sources"]) <= 5
    source = answer["sources"][0]
    assert set(source["speakers"]) <= {"Asha", "Ben"} and source["speakers"]
    assert source["message_count"] > 0 and source["similarity"] > 0
    assert answer["response_time_ms"] >= 0

    recording = RecordingLlm()
    platform.app.state.rag = dataclasses.replace(platform.app.state.rag, llm=recording)
    try:
        follow_up = await platform.ask(headers, chat_id, "And who suggested it first?")
    finally:
        platform.app.state.rag = dataclasses.replace(platform.app.state.rag, llm=OfflineLlm())

    assert follow_up.status_code == 200, follow_up.text
    [history] = recording.histories
    assert [turn.question for turn in history] == ["When did we talk about moving to Bangalore?"]
    assert history[0].answer == answer["answer"]

    conversation = await platform.client.get(
        f"/api/rag/conversations/{chat_id}?min_position={follow_up.json()['position']}",
        headers=headers,
    )
    turns = conversation.json()["turns"]
    assert [t["question"] for t in turns] == [
        "When did we talk about moving to Bangalore?",
        "And who suggested it first?",
    ]
    assert [t["status"] for t in turns] == ["answered", "answered"]
    assert turns[0]["answer"] == answer["answer"]
    assert turns[0]["sources"] == answer["sources"]


async def test_an_answer_streams_as_server_sent_events(platform):
    headers = await platform.user()
    chat_id = await platform.chat(headers, seed=22)
    await platform.answered(headers, chat_id, "Where are we moving?")

    streamed = await platform.client.post(
        "/api/rag/query",
        json={"chat_id": chat_id, "question": "Which month do we move?"},
        headers={**headers, "Accept": "text/event-stream"},
    )

    assert streamed.status_code == 200
    assert streamed.headers["content-type"].startswith("text/event-stream")
    events = sse_events(streamed.text)
    kinds = [kind for kind, _ in events]
    assert kinds[-1] == "answer" and set(kinds[:-1]) == {"token"}
    final = events[-1][1]
    assert "".join(data["text"] for kind, data in events[:-1]) == final["answer"]
    assert final["sources"] and uuid.UUID(final["turn_id"])


async def test_a_client_that_leaves_mid_answer_finds_its_turn_complete(platform):
    headers = await platform.user()
    chat_id = await platform.chat(headers, seed=23)
    await platform.answered(headers, chat_id, "Where are we moving?")
    user_id = uuid.UUID(
        (await platform.client.get("/api/users/me", headers=headers)).json()["user_id"]
    )
    rag = dataclasses.replace(
        platform.app.state.rag, llm=SlowStreamingLlm(["We ", "move ", "in ", "March."], 0.2)
    )
    ready = await prepare(rag, Question(uuid.UUID(chat_id), user_id, "When do we move?", 3))
    assert isinstance(ready, Ready)
    running: set[asyncio.Task[None]] = set()

    response = streamed_answer(rag, ready, running)
    body = response.body_iterator
    first = await anext(body)
    await body.aclose()  # the client is gone after the first piece

    assert first.startswith(b"event: token")
    await asyncio.wait(set(running), timeout=10)
    events = platform.store.load(conversation_id_for(uuid.UUID(chat_id), user_id))
    answered = [e for e in events if isinstance(e, QuestionAnswered)]
    assert [e.model for e in answered][-1] == "slow-fake"
    conversation = await platform.client.get(
        f"/api/rag/conversations/{chat_id}?min_position={platform.store.head()}", headers=headers
    )
    assert conversation.json()["turns"][-1]["answer"] == "We move in March."


async def test_forgetting_a_conversation_erases_its_turns_and_their_text(platform):
    headers = await platform.user()
    chat_id = await platform.chat(headers, seed=24)
    await platform.answered(headers, chat_id, "Where are we moving?")
    await platform.ask(headers, chat_id, "Who will miss Pune?")

    forgotten = await platform.client.delete(f"/api/rag/conversations/{chat_id}", headers=headers)

    assert forgotten.status_code == 200, forgotten.text
    assert forgotten.json()["turns_forgotten"] == 2
    position = forgotten.json()["position"]
    after = await platform.client.get(
        f"/api/rag/conversations/{chat_id}?min_position={position}", headers=headers
    )
    assert after.json()["turns"] == []
    conn = await asyncpg.connect(platform.settings.database_url)
    try:
        left = await conn.fetchval(
            "SELECT count(*) FROM conversation_contents WHERE chat_id = $1", uuid.UUID(chat_id)
        )
    finally:
        await conn.close()
    assert left == 0
    again = await platform.client.delete(f"/api/rag/conversations/{chat_id}", headers=headers)
    assert again.json()["turns_forgotten"] == 0


async def test_deleting_the_chat_erases_its_conversations(platform):
    headers = await platform.user()
    chat_id = await platform.chat(headers, seed=29)
    await platform.answered(headers, chat_id, "Where are we moving?")

    deleted = await platform.client.delete(f"/api/chats/{chat_id}", headers=headers)

    assert deleted.status_code in (200, 204), deleted.text
    asked = await platform.ask(headers, chat_id, "Where are we moving?")
    assert asked.status_code == 404

    async def erased() -> bool:
        conn = await asyncpg.connect(platform.settings.database_url)
        try:
            texts = await conn.fetchval(
                "SELECT count(*) FROM conversation_contents WHERE chat_id = $1",
                uuid.UUID(chat_id),
            )
            turns = await conn.fetchval(
                "SELECT count(*) FROM rag_turns WHERE chat_id = $1", uuid.UUID(chat_id)
            )
        finally:
            await conn.close()
        return texts == turns == 0

    await eventually(erased, within=60)


async def test_another_users_chat_is_not_found(platform):
    owner = await platform.user()
    chat_id = await platform.chat(owner, seed=25)
    stranger = await platform.user()

    asked = await platform.ask(stranger, chat_id, "What is this chat about?")
    read = await platform.client.get(f"/api/rag/conversations/{chat_id}", headers=stranger)
    forgot = await platform.client.delete(f"/api/rag/conversations/{chat_id}", headers=stranger)

    assert [asked.status_code, read.status_code, forgot.status_code] == [404, 404, 404]
    assert asked.json()["error"]["code"] == "chat_not_found"
    events = platform.store.load(uuid.UUID(chat_id))
    assert not any(isinstance(e, IndexingRequested) for e in events)


async def test_the_sixth_question_in_a_minute_is_refused(platform):
    headers = await platform.user()
    chat_id = await platform.chat(headers, seed=26)  # unindexed: questions answer 202, counted
    limits = {"rate_limit_rag": "30/hour,5/minute"}
    limited = create_app(platform.settings.model_copy(update=limits))
    async with limited.router.lifespan_context(limited):
        transport = httpx.ASGITransport(app=limited)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            body = {"chat_id": chat_id, "question": "When do we move?"}
            answers = [
                await client.post("/api/rag/query", json=body, headers=headers) for _ in range(6)
            ]

    assert [r.status_code for r in answers] == [202] * 5 + [429]
    refused = answers[-1]
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.json()["error"]["details"] == {"limit": 5, "window_s": 60}


async def test_twenty_racing_first_questions_start_one_indexing(platform):
    headers = await platform.user()
    chat_id = await platform.chat(headers, seed=27)

    answers = await asyncio.gather(
        *(platform.ask(headers, chat_id, f"Question number {n}?") for n in range(20))
    )

    assert [a.status_code for a in answers] == [202] * 20
    events = platform.store.load(uuid.UUID(chat_id))
    assert sum(isinstance(e, IndexingRequested) for e in events) == 1

    async def indexed() -> bool:
        return any(isinstance(e, ChatIndexed) for e in platform.store.load(uuid.UUID(chat_id)))

    await eventually(indexed, within=120)
    await platform.answered(headers, chat_id, "Where are we moving?")
    events = platform.store.load(uuid.UUID(chat_id))
    assert sum(isinstance(e, IndexingRequested) for e in events) == 1
    assert sum(isinstance(e, ChatIndexed) for e in events) == 1


async def test_a_canary_in_the_chat_and_the_question_stays_sealed(platform, caplog):
    caplog.set_level(logging.DEBUG)
    canary = "zqxrag" + "".join(chr(ord("a") + int(c, 16)) for c in uuid.uuid4().hex[:10])
    headers = await platform.user()
    said = [("Asha", f"our secret word is {canary} remember it"), ("Ben", f"{canary} forever")]
    chat_id = await platform.chat(headers, seed=28, extra=said)

    answer = await platform.answered(headers, chat_id, f"What did we say about {canary}?")
    streamed = await platform.client.post(
        "/api/rag/query",
        json={"chat_id": chat_id, "question": f"Who said {canary} first?"},
        headers={**headers, "Accept": "text/event-stream"},
    )
    conversation = await platform.client.get(
        f"/api/rag/conversations/{chat_id}?min_position={platform.store.head()}", headers=headers
    )

    assert canary in answer["answer"] and canary in streamed.text  # it really went through
    assert [canary in t["question"] for t in conversation.json()["turns"]] == [True, True]
    needle = canary.encode()
    formatter = JsonFormatter()
    assert [r.name for r in caplog.records if canary in formatter.format(r).lower()] == []
    assert canary not in platform.workers.log("indexer").lower()
    assert await leaked_in_redis(platform.settings.redis_url, needle) == []
    assert await leaked_in_tables(platform.settings.database_url, needle) == []
    assert files_holding(Path(platform.settings.data_dir), needle) == []


def files_holding(folder: Path, needle: bytes) -> list[Path]:
    """Files under `folder` (the local vector store, the socket) whose bytes hold `needle`."""
    return [
        path for path in folder.rglob("*") if path.is_file() and needle in path.read_bytes().lower()
    ]
