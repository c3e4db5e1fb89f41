"""The answer flow's first step without services: an unindexed chat asks for its index without
embedding anything; chunks stored before speakers were recorded ask for the chat's upgrade."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
import redis.asyncio as aioredis

from relivchats.adapters.chunk_search import TimedHits
from relivchats.adapters.crypto import ContentCipher
from relivchats.adapters.embeddings import LazyEmbedder
from relivchats.adapters.eventstore import AsyncEventStore
from relivchats.adapters.llm import OfflineLlm
from relivchats.adapters.memory_eventstore import InMemoryEventStore
from relivchats.adapters.vectorstore import ChunkHit
from relivchats.commands.chat_indexing import record_indexed
from relivchats.commands.chats import record_upload
from relivchats.commands.rag_answers import IndexingUnderway, Question, RagServices, prepare
from relivchats.commands.unit_of_work import execute
from relivchats.domain.chats import IndexingRequested
from relivchats.domain.chats_rules import UploadSummary

OWNER = uuid.uuid4()
WHEN = datetime(2024, 1, 1, 9)


class FakeEmbedder:
    name, dimension = "fake", 3

    def __init__(self) -> None:
        self.questions: list[str] = []

    async def embed_query_async(self, text: str) -> list[float]:
        self.questions.append(text)
        return [1.0, 0.0, 0.0]


class OldChunks:
    """A search whose hits predate speakers in the payload."""

    async def search(self, chat_id: uuid.UUID, vector: list[float], limit: int) -> TimedHits:
        hit = ChunkHit(0, 0.8, WHEN, WHEN + timedelta(hours=1), 12, 0, 12, speakers=None)
        return TimedHits([hit], 0.1)

    def close(self) -> None:
        return None


@pytest.fixture
def memory() -> InMemoryEventStore:
    return InMemoryEventStore()


def services(memory: InMemoryEventStore, embedder: FakeEmbedder) -> RagServices:
    unreachable = aioredis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    return RagServices(
        store=AsyncEventStore(memory, threads=2),  # type: ignore[arg-type]
        pool=None,  # type: ignore[arg-type]  (not reached: no text is fetched here)
        cipher=ContentCipher(b"\0" * 32),
        embedder=LazyEmbedder(lambda: embedder),  # type: ignore[arg-type,return-value]
        search=OldChunks(),
        llm=OfflineLlm(),
        redis=unreachable,
        key_prefix="test:",
        indexing_stale_after=timedelta(minutes=15),
    )


def chat_in(memory: InMemoryEventStore, indexed: bool) -> uuid.UUID:
    chat_id = uuid.uuid4()
    summary = UploadSummary(("Asha", "Ben"), 12, WHEN, WHEN, uuid.uuid4())
    execute(memory, record_upload, chat_id, OWNER, summary, None)
    if indexed:
        execute(memory, record_indexed, chat_id, 1)
    return chat_id


def requests(memory: InMemoryEventStore, chat_id: uuid.UUID) -> list[Any]:
    return [e.reason for e in memory.load(chat_id) if isinstance(e, IndexingRequested)]


async def test_an_unindexed_chat_asks_for_its_index_and_embeds_nothing(memory):
    embedder = FakeEmbedder()
    rag = services(memory, embedder)
    chat_id = chat_in(memory, indexed=False)

    first = await prepare(rag, Question(chat_id, OWNER, "where are we moving?", 5))
    again = await prepare(rag, Question(chat_id, OWNER, "and when?", 5))

    assert isinstance(first, IndexingUnderway) and isinstance(again, IndexingUnderway)
    assert first.progress is None and first.retry_after_s > 0
    assert requests(memory, chat_id) == ["unindexed"]
    assert embedder.questions == []


async def test_chunks_without_speakers_ask_for_the_chats_upgrade(memory):
    embedder = FakeEmbedder()
    chat_id = chat_in(memory, indexed=True)

    underway = await prepare(services(memory, embedder), Question(chat_id, OWNER, "who?", 5))

    assert isinstance(underway, IndexingUnderway)
    assert requests(memory, chat_id) == ["payload_upgrade"]
    assert embedder.questions == ["who?"]  # the question itself never left this process
