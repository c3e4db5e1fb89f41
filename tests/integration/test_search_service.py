"""The indexer's search service and chunk speakers, on a local Qdrant store in a temporary
directory: the API's client asks over the Unix socket while the store is being written; old
points without speakers come back as such and are upgraded in place, without re-embedding."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import uuid
from pathlib import Path

import orjson
import pytest

from relivchats.adapters.chunk_search import (
    IndexerSearch,
    SearchUnavailable,
    search_socket_path,
)
from relivchats.adapters.vectorstore import VectorStore
from relivchats.api.rag_wiring import chunk_search
from relivchats.settings import Settings
from relivchats.workers.search_service import SearchService
from tests.integration.test_vectorstore import DIMENSION, chunk_vectors, unit_vector


@pytest.fixture
def vectors(tmp_path: Path):
    store = VectorStore(DIMENSION, "test-embedder", path=str(tmp_path / "qdrant"))
    yield store
    store.close()


@pytest.fixture
def service(tmp_path: Path, vectors: VectorStore):
    running = SearchService(search_socket_path(str(tmp_path)), vectors).start()
    yield running
    running.stop()


def with_speakers(seeds: range, speakers: tuple[int, ...] = (0, 1)) -> list:
    return [dataclasses.replace(c, speakers=speakers) for c in chunk_vectors(seeds)]


async def test_the_api_searches_through_the_indexers_socket(service, vectors):
    chat = uuid.uuid4()
    vectors.upsert_chunks(chat, with_speakers(range(1, 6)))
    client = IndexerSearch(service.path, timeout_s=5)

    found = await client.search(chat, unit_vector(3), limit=2)

    assert found.hits[0].chunk_index == 2
    assert len(found.hits) == 2
    assert found.hits[0].speakers == (0, 1)
    assert found.hits[0].similarity == pytest.approx(1.0, abs=1e-5)
    assert found.search_ms > 0


async def test_searches_are_answered_while_the_store_is_being_written(service, vectors):
    chat, busy = uuid.uuid4(), uuid.uuid4()
    vectors.upsert_chunks(chat, with_speakers(range(1, 4)))
    client = IndexerSearch(service.path, timeout_s=5)
    stop = threading.Event()

    def keep_indexing() -> None:
        seed = 10
        while not stop.is_set():
            vectors.upsert_chunks(busy, with_speakers(range(seed, seed + 64)))
            seed += 64

    writer = threading.Thread(target=keep_indexing)
    writer.start()
    try:
        results = await asyncio.gather(
            *(client.search(chat, unit_vector(2), limit=3) for _ in range(20))
        )
    finally:
        stop.set()
        writer.join()

    assert all(r.hits[0].chunk_index == 1 for r in results)
    assert vectors.count(busy) >= 64


async def test_a_stopped_service_is_unavailable_not_an_error(tmp_path: Path, vectors):
    service = SearchService(search_socket_path(str(tmp_path)), vectors).start()
    service.stop()

    with pytest.raises(SearchUnavailable):
        await IndexerSearch(service.path, timeout_s=1).search(uuid.uuid4(), unit_vector(1), 1)


def test_a_malformed_request_is_answered_with_an_error(service):
    import socket

    with socket.socket(socket.AF_UNIX) as conn:
        conn.connect(str(service.path))
        conn.sendall(b'{"op": "search", "chat_id": "not a uuid"}\n')
        reply = orjson.loads(conn.makefile("rb").readline())

    assert reply == {"error": "malformed request"}


def test_points_stored_without_speakers_are_upgraded_in_place(vectors):
    chat = uuid.uuid4()
    vectors.upsert_chunks(chat, chunk_vectors(range(1, 4)))  # as stored before speakers
    # Drop the new fields: exactly a payload stored before speakers were recorded.
    for point in vectors._client.scroll(vectors._collection, limit=10, with_payload=True)[0]:
        old = {k: v for k, v in (point.payload or {}).items() if k != "speakers"}
        vectors._client.overwrite_payload(vectors._collection, payload=old, points=[point.id])

    assert vectors.without_speakers(chat) == 3
    assert vectors.search(chat, unit_vector(1), limit=1)[0].speakers is None
    vectors.set_speakers(chat, [(0,), (1, 0), (1,)])

    assert vectors.without_speakers(chat) == 0
    hits = {hit.chunk_index: hit for hit in vectors.search(chat, unit_vector(2), limit=3)}
    assert (hits[0].speakers, hits[1].speakers, hits[2].speakers) == ((0,), (1, 0), (1,))
    assert hits[1].similarity == pytest.approx(1.0, abs=1e-5)  # the vectors were kept


def test_local_search_gives_qdrants_own_results_and_follows_every_write(vectors):
    chat, other = uuid.uuid4(), uuid.uuid4()
    vectors.upsert_chunks(chat, with_speakers(range(1, 40)))
    vectors.upsert_chunks(other, with_speakers(range(1, 40)))
    query = unit_vector(7)

    fast = vectors.search(chat, query, limit=5)
    qdrant = vectors.qdrant_search(chat, query, limit=5)

    assert [h.chunk_index for h in fast] == [h.chunk_index for h in qdrant]
    assert [h.similarity for h in fast] == pytest.approx([h.similarity for h in qdrant], abs=1e-5)
    vectors.upsert_chunks(chat, with_speakers(range(100, 101)))  # chunk 0 gets a new vector
    assert vectors.search(chat, unit_vector(100), limit=1)[0].chunk_index == 0
    vectors.set_speakers(chat, [(1,)] * 39)
    assert vectors.search(chat, query, limit=1)[0].speakers == (1,)
    vectors.delete_chat(chat)
    assert vectors.search(chat, query, limit=5) == []
    assert len(vectors.search(other, query, limit=5)) == 5


async def test_an_unreachable_qdrant_server_is_unavailable_not_an_error():
    search = chunk_search(Settings(qdrant_url="http://127.0.0.1:1", qdrant_collection="none"))

    with pytest.raises(SearchUnavailable):
        await search.search(uuid.uuid4(), unit_vector(1), 3)
