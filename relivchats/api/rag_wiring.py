"""Builds what the API needs to answer questions (commands/rag_answers.RagServices).

The embedder is loaded on the first question (lazily, once per process); the search is the
Qdrant server at `QDRANT_URL`, opened on first use, or else the indexer's search service on
its Unix socket under `DATA_DIR` (the embedded store has one owner: the indexer).
"""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta
from uuid import UUID

import redis.asyncio as aioredis

from relivchats.adapters.chunk_search import (
    ChunkSearch,
    IndexerSearch,
    SearchUnavailable,
    ServerSearch,
    TimedHits,
    search_socket_path,
)
from relivchats.adapters.crypto import ContentCipher
from relivchats.adapters.database import ReadPool
from relivchats.adapters.embeddings import (
    LOCAL_DIMENSION,
    LOCAL_MODEL,
    Embedder,
    LazyEmbedder,
    embedder_for,
)
from relivchats.adapters.eventstore import AsyncEventStore
from relivchats.adapters.llm import LlmProvider, make_llm
from relivchats.adapters.vectorstore import VectorStore
from relivchats.commands.rag_answers import RagServices
from relivchats.settings import Settings


def build_rag_services(
    settings: Settings,
    store: AsyncEventStore,
    pool: ReadPool,
    cipher: ContentCipher,
    redis: aioredis.Redis,
) -> RagServices:
    return RagServices(
        store=store,
        pool=pool,
        cipher=cipher,
        embedder=LazyEmbedder(lambda: question_embedder(settings)),
        search=chunk_search(settings),
        llm=answering_llm(settings),
        redis=redis,
        key_prefix=settings.celery_key_prefix,
        indexing_stale_after=timedelta(seconds=settings.rag_indexing_stale_s),
    )


# One question is one short text: torch's threads only fight each other (and the API's other
# work) over it. Measured here on 2 busy cores: 10 ms with 1 thread, 330 ms with 2.
QUESTION_EMBEDDER_THREADS = 1


def question_embedder(settings: Settings) -> Embedder:
    return embedder_for(settings, local_threads=QUESTION_EMBEDDER_THREADS)


def answering_llm(settings: Settings) -> LlmProvider:
    key = settings.gemini_api_key.get_secret_value() if settings.gemini_api_key else None
    return make_llm(
        key,
        model=settings.gemini_model,
        base_url=settings.gemini_base_url,
        timeout_s=settings.gemini_timeout_s,
        attempts=settings.gemini_attempts,
    )


def chunk_search(settings: Settings) -> ChunkSearch:
    if settings.qdrant_url:
        return LazyServerSearch(settings)
    return IndexerSearch(search_socket_path(settings.data_dir), settings.rag_search_timeout_s)


class LazyServerSearch:
    """`ServerSearch` on the collection the indexer writes, connected on the first question."""

    def __init__(self, settings: Settings):
        self._settings = settings
        self._search: ServerSearch | None = None
        self._lock = threading.Lock()

    async def search(self, chat_id: UUID, vector: list[float], limit: int) -> TimedHits:
        if self._search is None:
            try:
                await asyncio.to_thread(self._open)
            except Exception as error:  # the server is down or refuses us: 503, asked again
                raise SearchUnavailable(type(error).__name__) from error
        assert self._search is not None
        return await self._search.search(chat_id, vector, limit)

    def _open(self) -> None:
        with self._lock:
            if self._search is None:
                self._search = ServerSearch(server_vectors(self._settings))

    def close(self) -> None:
        if self._search is not None:
            self._search.close()


def server_vectors(settings: Settings) -> VectorStore:
    """The server collection the indexer fills: named by the embedder's dimension."""
    gemini = settings.gemini_api_key is not None
    dimension = settings.gemini_embedding_dimension if gemini else LOCAL_DIMENSION
    name = (
        f"gemini/{settings.gemini_embedding_model}/{dimension}"
        if gemini
        else f"local/{LOCAL_MODEL}"
    )
    key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
    return VectorStore(
        dimension,
        name,
        url=settings.qdrant_url,
        api_key=key,
        collection=f"{settings.qdrant_collection}_{dimension}",
    )


ANSWERS_GRACE_S = 30


async def finish_answers(running: set[asyncio.Task[None]]) -> None:
    """At shutdown, let streamed answers record their turns (bounded) before the pools close."""
    if running:
        await asyncio.wait(set(running), timeout=ANSWERS_GRACE_S)
