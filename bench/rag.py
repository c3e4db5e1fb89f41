"""Issue 10: ask a question of a 100,000-message chat already indexed; answer with the offline
provider. p50 and p99 over 200 questions, with the question's embedding, the chunk search and
the content fetch timed apart.

What runs is the API's answer flow (commands/rag_answers.prepare + answer) on a real database:
the chat is uploaded through the upload processes and sealed in the content store, every turn
is sealed and recorded as events, the conversation's history is read back for each question,
and in the embedded deployment the search goes over the indexer's Unix socket to a search
service (workers/search_service.py) running here in a thread, exactly as in the indexer.

The chunks are the chat's real chunks (their message ranges and speakers), but their vectors are
random unit vectors instead of the local model's (indexing 100,000 messages with the model takes
minutes and is P8's benchmark, bench/indexing.py): a search costs the same whatever the vectors
hold. Questions are embedded by the real local model.

Same-run baselines: a bare Qdrant search of the same vector, in-process on the same store (no
socket; in local mode Qdrant scans its payload filter point by point), and the vector store's
own search in-process (local mode answers from the chat's matrix, adapters/chat_matrix.py), so
the cost of the socket and the service's thread shows apart. With `QDRANT_URL` set, the server
mode is measured too (the API's own client, and the bare search on it); without one it is
reported as not measured.

Bars: p50 <= 150 ms and p99 <= 400 ms question -> answer; search <= 2x the bare search.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import redis.asyncio as aioredis

from bench.common import Row, throwaway_database
from relivchats.adapters.chat_content import read_messages
from relivchats.adapters.chunk_search import IndexerSearch, ServerSearch, search_socket_path
from relivchats.adapters.crypto import ContentCipher
from relivchats.adapters.database import ReadPool
from relivchats.adapters.embeddings import LOCAL_DIMENSION, LazyEmbedder, LocalEmbedder
from relivchats.adapters.eventstore import AsyncEventStore, EventStore
from relivchats.adapters.ingest import IngestInterrupted, IngestPool
from relivchats.adapters.llm import OfflineLlm
from relivchats.adapters.vectorstore import ChunkVector, VectorStore
from relivchats.api.rag_wiring import QUESTION_EMBEDDER_THREADS
from relivchats.commands.chats import record_upload
from relivchats.commands.rag_answers import Question, RagServices, Ready, answer, prepare
from relivchats.commands.unit_of_work import dispatch
from relivchats.domain import chats, chats_rules
from relivchats.domain.chats import Chat
from relivchats.domain.chunking import chunk_messages
from relivchats.settings import Settings
from relivchats.workers.indexing import speaker_indices, text_lines
from relivchats.workers.search_service import SearchService
from tests.fakes.chat_exports import STYLE_BY_NAME, generate_chat, render_export

MESSAGES = 100_000
QUESTIONS = 200
WARM_UP = 5
OWNER = uuid.UUID("00000000-0000-4000-8000-00000000b0b0")
TOPICS = (
    "when did we plan the goa trip",
    "who said sorry first after the fight",
    "what did mom say about dinner",
    "did we talk about moving to bangalore",
    "when is the birthday party",
    "who was tired after work",
    "what movie did we watch on the weekend",
    "did you reach home safely",
)


@dataclass
class Figures:
    total_ms: list[float]
    embed_ms: list[float]
    search_ms: list[float]
    fetch_ms: list[float]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> list[Row]:
    return asyncio.run(_main())


async def _main() -> list[Row]:
    folder = Path(tempfile.mkdtemp(prefix="bench-rag-"))
    with throwaway_database() as database_url:
        settings = Settings(
            environment="test", database_url=database_url, data_dir=str(folder), log_level="ERROR"
        )
        store = EventStore(settings)
        try:
            chat = await uploaded_chat(settings, store)
            vectors = VectorStore(LOCAL_DIMENSION, "bench", path=str(folder / "qdrant"))
            chunk_count = index_with_random_vectors(settings, vectors, chat)
            store.append(
                *chats_rules.record_indexed(chats.replay(store.load(chat.id)), chunk_count)
            )
            rows = await measure_embedded(settings, store, vectors, chat, chunk_count)
            vectors.close()
            rows += await measure_server(settings, chat)
            return rows
        finally:
            store.close()
            shutil.rmtree(folder, ignore_errors=True)


async def uploaded_chat(settings: Settings, store: EventStore) -> Chat:
    style = STYLE_BY_NAME["android_us_12h_new"]
    export = render_export(generate_chat(MESSAGES, seed=10, style=style), style).encode()
    pool = IngestPool(settings)
    chat_id = uuid.uuid4()
    try:
        for attempt in range(1, 6):  # the shared server may be out of connections for a moment
            try:
                ingested = await pool.ingest(export, chat_id, uuid.uuid4())
                break
            except IngestInterrupted:
                if attempt == 5:
                    raise
                await asyncio.sleep(5)
    finally:
        pool.close()
    async_store = AsyncEventStore(store, threads=2)
    recorded = await dispatch(async_store, record_upload, chat_id, OWNER, ingested.summary, None)
    return recorded.chat


def index_with_random_vectors(settings: Settings, vectors: VectorStore, chat: Chat) -> int:
    import psycopg

    cipher = ContentCipher.from_settings(settings)
    with psycopg.connect(settings.database_url) as conn:
        stored = read_messages(conn, cipher, chat.id, chat.content_id)
    lines = text_lines(stored, chat.participants)
    chunks = chunk_messages(lines)
    rng = random.Random(10)
    points = [
        ChunkVector(
            chunk_index=chunk.index,
            vector=_unit(rng),
            start_time=chunk.start_time,
            end_time=chunk.end_time,
            message_count=chunk.message_count,
            first_message=lines[chunk.first_message].seq,
            end_message=lines[chunk.end_message - 1].seq + 1,
            speakers=speaker_indices(chunk, chat.participants),
        )
        for chunk in chunks
    ]
    vectors.upsert_chunks(chat.id, points)
    return len(chunks)


def _unit(rng: random.Random) -> list[float]:
    raw = [rng.gauss(0, 1) for _ in range(LOCAL_DIMENSION)]
    norm = sum(value * value for value in raw) ** 0.5
    return [value / norm for value in raw]


async def measure_embedded(
    settings: Settings, store: EventStore, vectors: VectorStore, chat: Chat, chunks: int
) -> list[Row]:
    service = SearchService(search_socket_path(settings.data_dir), vectors).start()
    search = IndexerSearch(service.path, timeout_s=5)
    embedder = LocalEmbedder(threads=QUESTION_EMBEDDER_THREADS)
    try:
        figures, questions = await ask_all(settings, store, chat, search, embedder)
        bare, in_process = bare_searches(vectors, chat, embedder, questions)
    finally:
        service.stop()
    return report("embedded (indexer's socket)", figures, bare, in_process, chunks)


async def ask_all(
    settings: Settings,
    store: EventStore,
    chat: Chat,
    search: IndexerSearch | ServerSearch,
    embedder: LocalEmbedder,
) -> tuple[Figures, list[str]]:
    pool = await ReadPool.open(
        settings.database_url, min_size=2, max_size=4, statement_timeout_ms=3000
    )
    redis = aioredis.from_url(settings.redis_url)
    rag = RagServices(
        store=AsyncEventStore(store, threads=4),
        pool=pool,
        cipher=ContentCipher.from_settings(settings),
        embedder=LazyEmbedder(lambda: embedder),
        search=search,
        llm=OfflineLlm(),
        redis=redis,
        key_prefix="bench:",
        indexing_stale_after=timedelta(minutes=15),
    )
    figures = Figures([], [], [], [])
    rng = random.Random(3)
    questions = [f"{rng.choice(TOPICS)} ({n})?" for n in range(QUESTIONS + WARM_UP)]
    try:
        for n, text in enumerate(questions):
            started = time.perf_counter()
            ready = await prepare(rag, Question(chat.id, OWNER, text, 5))
            assert isinstance(ready, Ready), ready
            await answer(rag, ready)
            if n >= WARM_UP:
                figures.total_ms.append((time.perf_counter() - started) * 1000)
                figures.embed_ms.append(ready.timings.embed_ms)
                figures.search_ms.append(ready.timings.search_ms)
                figures.fetch_ms.append(ready.timings.fetch_ms)
    finally:
        await pool.close()
        await redis.aclose()
    return figures, questions[WARM_UP:]


def bare_searches(
    vectors: VectorStore, chat: Chat, embedder: LocalEmbedder, questions: list[str]
) -> tuple[list[float], list[float]]:
    """Qdrant's own search of each question's vector, and our store's search in-process (no
    socket): what the search service adds is the difference from the second."""
    qdrant, in_process = [], []
    for text in questions:
        vector = embedder.embed_query(text)
        started = time.perf_counter()
        vectors.qdrant_search(chat.id, vector, limit=5)
        middle = time.perf_counter()
        vectors.search(chat.id, vector, limit=5)
        qdrant.append((middle - started) * 1000)
        in_process.append((time.perf_counter() - middle) * 1000)
    return qdrant, in_process


async def measure_server(settings: Settings, chat: Chat) -> list[Row]:
    url = os.environ.get("QDRANT_URL")
    if not url:
        return [
            {
                "what": "question -> answer, Qdrant server (QDRANT_URL)",
                "conditions": "no Qdrant server on this machine",
                "figure": "not measured",
                "baseline": "-",
                "ratio": "-",
            }
        ]
    server = VectorStore(LOCAL_DIMENSION, "bench", url=url, collection=f"bench_{uuid.uuid4().hex}")
    try:
        chunks = index_with_random_vectors(settings, server, chat)
        embedder = LocalEmbedder(threads=QUESTION_EMBEDDER_THREADS)
        store = EventStore(settings)
        try:
            figures, questions = await ask_all(
                settings, store, chat, ServerSearch(server), embedder
            )
        finally:
            store.close()
        bare, in_process = bare_searches(server, chat, embedder, questions)
        return report("Qdrant server", figures, bare, in_process, chunks)
    finally:
        server._client.delete_collection(server._collection)
        server.close()


def report(
    mode: str, figures: Figures, bare: list[float], in_process: list[float], chunks: int
) -> list[Row]:
    p50, p99 = percentile(figures.total_ms, 0.5), percentile(figures.total_ms, 0.99)
    search50, bare50 = percentile(figures.search_ms, 0.5), percentile(bare, 0.5)
    own50 = percentile(in_process, 0.5)
    conditions = f"{MESSAGES:,} messages, {chunks:,} chunks, {QUESTIONS} questions, {mode}"
    print(
        f"\n{mode}: question -> answer p50 {p50:.1f} ms, p99 {p99:.1f} ms"
        f" | embed p50 {percentile(figures.embed_ms, 0.5):.1f} ms"
        f" | search p50 {search50:.2f} ms p99 {percentile(figures.search_ms, 0.99):.2f} ms"
        f" | content fetch p50 {percentile(figures.fetch_ms, 0.5):.2f} ms"
        f" p99 {percentile(figures.fetch_ms, 0.99):.2f} ms"
        f" | bare Qdrant search p50 {bare50:.2f} ms (mean {statistics.fmean(bare):.2f})"
        f" | the store's search in-process p50 {own50:.3f} ms"
    )
    return [
        {
            "what": "question -> answer p50 / p99 (bar 150 / 400 ms)",
            "conditions": conditions,
            "figure": f"{p50:.1f} / {p99:.1f} ms",
            "baseline": "-",
            "ratio": "-",
        },
        {
            "what": "chunk search p50, as the API waits for it (bar <= 2x bare)",
            "conditions": conditions,
            "figure": f"{search50:.2f} ms",
            "baseline": f"bare Qdrant search of the same vector {bare50:.2f} ms",
            "ratio": f"{search50 / bare50:.2f}x",
        },
        {
            "what": "chunk search p50: what the API adds to the store's own search",
            "conditions": conditions,
            "figure": f"{search50:.2f} ms",
            "baseline": f"the same search in-process, no socket or thread hop {own50:.3f} ms",
            "ratio": f"{search50 / own50:.1f}x",
        },
        {
            "what": "content fetch p50 / p99 (open the hits' messages)",
            "conditions": conditions,
            "figure": f"{percentile(figures.fetch_ms, 0.5):.2f} / "
            f"{percentile(figures.fetch_ms, 0.99):.2f} ms",
            "baseline": "-",
            "ratio": "-",
        },
        {
            "what": "question embedding p50 (local model, in the API)",
            "conditions": conditions,
            "figure": f"{percentile(figures.embed_ms, 0.5):.1f} ms",
            "baseline": "-",
            "ratio": "-",
        },
    ]


if __name__ == "__main__":
    for row in main():
        print(row)
