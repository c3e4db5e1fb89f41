"""The `indexing` queue: lazy indexing of a job's chat, each insight type's excerpts, forgetting.

Single owner of the vector store. Qdrant's embedded local mode (no `QDRANT_URL`) allows one
client per path across all processes, so everything that touches vectors runs here: indexing,
the searches that choose each insight type's excerpts, and deleting a chat's vectors. The
`relivchats indexer` process consumes this queue with ONE worker process, which loads the
embedder and opens the store once, after the fork. Generation never searches: the excerpts it
needs travel as message ranges (positions, no text) in the job's `GenerationRequested` event,
so generation runs in parallel in any number of processes. With a Qdrant server any number of
indexers may run.

Indexing is resumable: chunking is deterministic and points are keyed by (chat, chunk index),
so a run continues from the chunks already stored. A run stops by itself when its time budget
(under the task's soft time limit) is spent and publishes the next run, so a chat of any size is
indexed in slices that each fit the broker's visibility timeout; a lost worker or a failed run
resumes the same way. Only failures count against `INDEXING_ATTEMPTS`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg

from relivchats.adapters.chat_content import StoredMessage, read_messages
from relivchats.adapters.chunk_search import search_socket_path
from relivchats.adapters.conversation_content import erase_chat_conversations
from relivchats.adapters.crypto import ContentCipher
from relivchats.adapters.embeddings import Embedder, embedder_for
from relivchats.adapters.eventstore import EventStore
from relivchats.adapters.indexing_progress import progress_reporter
from relivchats.adapters.insight_content import erase_chat_insights
from relivchats.adapters.vectorstore import ChunkVector, VectorStore
from relivchats.commands.insight_outcomes import fail_pending, start_generation
from relivchats.commands.unit_of_work import execute
from relivchats.domain import chats, insights
from relivchats.domain.catalogue import insight_type
from relivchats.domain.chats import Chat
from relivchats.domain.chunking import Chunk, chunk_messages
from relivchats.domain.insights import InsightJob
from relivchats.domain.uploads import MessageKind
from relivchats.projections.dispatcher import FORGET_CHAT_TASK, PREPARE_JOB_TASK
from relivchats.settings import Settings, get_settings
from relivchats.workers.app import celery_app, worker_store
from relivchats.workers.attempts import backoff_s, error_code, infrastructure_retries
from relivchats.workers.metrics import observe_embedding
from relivchats.workers.search_service import SearchService

log = logging.getLogger(__name__)

EMBED_BATCH = 64  # chunks embedded and stored together (~3 s here): a run stops between them
MARGIN_S = 15  # of the soft time limit, left for reading the chat and the searches


def open_vector_store(settings: Settings, embedder: Embedder) -> VectorStore:
    """The configured Qdrant: a server at QDRANT_URL, else local mode under DATA_DIR."""
    collection = f"{settings.qdrant_collection}_{embedder.dimension}"
    if settings.qdrant_url:
        key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
        return VectorStore(
            embedder.dimension,
            embedder.name,
            url=settings.qdrant_url,
            api_key=key,
            collection=collection,
        )
    path = Path(settings.data_dir) / "qdrant"
    path.mkdir(parents=True, exist_ok=True)
    return VectorStore(embedder.dimension, embedder.name, path=str(path), collection=collection)


class Retrieval:
    """What this process owns: the embedder (loaded once, ~4 s) and the vector store client."""

    def __init__(self, settings: Settings):
        self.embedder = embedder_for(settings, local_threads=settings.embedder_threads)
        self.vectors = open_vector_store(settings, self.embedder)
        self.cipher = ContentCipher.from_settings(settings)


class _Process:
    retrieval: Retrieval | None = None


def retrieval() -> Retrieval:
    if _Process.retrieval is None:
        started = time.perf_counter()
        _Process.retrieval = Retrieval(get_settings())
        log.info("indexer ready", extra={"load_s": round(time.perf_counter() - started, 1)})
    return _Process.retrieval


def warm_up(**_: Any) -> None:
    """Connected to `worker_process_init` by `relivchats indexer`: load before the first task,
    and in the embedded deployment serve the API's searches from this process."""
    _Process.retrieval = None  # never a parent's client: the store's lock is per process
    owner = retrieval()
    settings = get_settings()
    if not settings.qdrant_url:
        SearchService(search_socket_path(settings.data_dir), owner.vectors).start()


@dataclass(frozen=True)
class _Line:
    """A text message as chunking reads it, with its position in the chat's content."""

    seq: int
    timestamp: datetime
    sender: str
    text: str


class IndexingPaused(Exception):
    """This run spent its time budget; the next one continues from the chunks stored."""


# Retried by hand, so Celery's retry count is unbounded (max_retries=None): a paused run goes on
# at once and does not count; failures count against INDEXING_ATTEMPTS.
@celery_app.task(name=PREPARE_JOB_TASK, bind=True, max_retries=None)  # type: ignore[untyped-decorator]
def prepare_job(self: Any, job_id: str, failures: int = 0) -> str:
    settings = get_settings()

    def give_up(reason: str, failed: int) -> None:
        execute(worker_store(), fail_pending, UUID(job_id), reason, failed, indexing_failed=True)

    return indexing_try(
        self,
        failures,
        {"job_id": job_id},
        lambda: _prepare(worker_store(), settings, UUID(job_id), failures),
        give_up,
    )


def indexing_try(
    task: Any,
    failures: int,
    about: dict[str, str],
    run: Callable[[], str],
    give_up: Callable[[str, int], None],
) -> str:
    """One try of an indexing run: a paused run goes on at once and does not count; a failure is
    retried with backoff until INDEXING_ATTEMPTS, then `give_up(reason, failures)` records it."""
    settings = get_settings()
    try:
        return run()
    except IndexingPaused:
        raise task.retry(kwargs={"failures": failures}, countdown=0) from None
    except Exception as error:  # every step is idempotent: any failure may be tried again
        failures += 1
        log.warning(
            "indexing run failed",
            extra={**about, "error": type(error).__name__, "failures": failures},
        )
        if failures < settings.indexing_attempts:
            countdown = backoff_s(settings, failures)
            raise task.retry(kwargs={"failures": failures}, countdown=countdown) from None
        give_up("indexing_" + error_code(error), failures)
        return "indexing failed"


def _prepare(store: EventStore, settings: Settings, job_id: UUID, failures: int) -> str:
    job = insights.replay(store.load(job_id))
    if job is None or job.generation_requested or job.settlement is not None:
        return "already prepared"
    chat = chats.replay(store.load(job.chat_id))
    if chat is None or chat.deleted:
        execute(store, fail_pending, job.id, "chat_deleted", failures + 1, indexing_failed=False)
        return "chat deleted"
    deadline = time.monotonic() + max(5, settings.celery_task_soft_time_limit_s - MARGIN_S)
    chunks, excerpts = index_and_choose(retrieval(), settings, chat, job, deadline)
    execute(store, start_generation, job.id, chunks, excerpts)
    return "prepared"


def index_and_choose(
    owner: Retrieval, settings: Settings, chat: Chat, job: InsightJob, deadline: float
) -> tuple[int, dict[str, list[list[int]]]]:
    """Index the chat (resuming) unless it is, then each insight type's best chunks as message
    ranges."""
    chunks = chat.indexed_chunks
    if chunks is None or owner.vectors.count(chat.id) != chunks:
        chunks = index_chat(owner, settings, chat, deadline)
    return chunks, {
        kind: best_ranges(owner, chat.id, kind, settings.insight_excerpt_chunks)
        for kind in job.insight_types
    }


def index_chat(owner: Retrieval, settings: Settings, chat: Chat, deadline: float) -> int:
    """Embed what is missing, and give chunks stored before speakers were recorded theirs."""
    started = time.perf_counter()
    with psycopg.connect(settings.database_url, connect_timeout=5) as conn:
        messages = read_messages(conn, owner.cipher, chat.id, chat.content_id)
    lines = text_lines(messages, chat.participants)
    chunks = chunk_messages(lines)
    report = progress_reporter(settings.redis_url, settings.celery_key_prefix, chat.id, len(chunks))
    speakers = [speaker_indices(chunk, chat.participants) for chunk in chunks]
    embedded = ensure_indexed(owner, chat.id, chunks, lines, deadline, speakers, report)
    if owner.vectors.without_speakers(chat.id):
        owner.vectors.set_speakers(chat.id, speakers)
    log.info(
        "chat indexed",
        extra={
            "chat_id": str(chat.id),
            "messages": len(messages),
            "chunks": len(chunks),
            "embedded_now": embedded,
            "seconds": round(time.perf_counter() - started, 2),
        },
    )
    return len(chunks)


def text_lines(messages: Sequence[StoredMessage], participants: Sequence[str]) -> list[_Line]:
    """Only text messages are indexed: media and deletion notices carry nothing to retrieve."""
    return [
        _Line(m.seq, m.sent_at, participants[m.sender_index], m.text)
        for m in messages
        if m.kind == MessageKind.TEXT
    ]


def ensure_indexed(
    owner: Retrieval,
    chat_id: UUID,
    chunks: Sequence[Chunk],
    lines: Sequence[_Line],
    deadline: float,
    speakers: Sequence[tuple[int, ...]] | None = None,
    report: Callable[[int], None] = lambda stored: None,
) -> int:
    """Embed and store the chunks not stored yet (at least one batch per run, then until the
    deadline: IndexingPaused); returns how many were embedded now."""
    present = owner.vectors.count(chat_id)
    if present > len(chunks):  # chunked differently before: start over
        owner.vectors.delete_chat(chat_id)
        present = 0
    for start in range(present, len(chunks), EMBED_BATCH):
        if start > present and time.monotonic() > deadline:
            log.info("indexing paused", extra={"chat_id": str(chat_id), "stored": start})
            raise IndexingPaused()
        batch = chunks[start : start + EMBED_BATCH]
        started = time.perf_counter()
        vectors = owner.embedder.embed_documents([chunk.text for chunk in batch])
        observe_embedding(owner.embedder.name, len(batch), time.perf_counter() - started)
        stored = zip(batch, vectors, strict=True)
        owner.vectors.upsert_chunks(
            chat_id,
            [_vector(c, v, lines, speakers[c.index] if speakers else ()) for c, v in stored],
        )
        report(start + len(batch))
    report(len(chunks))
    return len(chunks) - present


def speaker_indices(chunk: Chunk, participants: Sequence[str]) -> tuple[int, ...]:
    """A chunk's speakers as positions in the chat's participant list: no names in payloads."""
    return tuple(participants.index(name) for name in chunk.speakers)


def _vector(
    chunk: Chunk, vector: Sequence[float], lines: Sequence[_Line], speakers: tuple[int, ...]
) -> ChunkVector:
    """Positions in the payload are message seqs in the content store, where text is fetched."""
    return ChunkVector(
        chunk_index=chunk.index,
        vector=vector,
        start_time=chunk.start_time,
        end_time=chunk.end_time,
        message_count=chunk.message_count,
        first_message=lines[chunk.first_message].seq,
        end_message=lines[chunk.end_message - 1].seq + 1,
        speakers=speakers,
    )


def best_ranges(owner: Retrieval, chat_id: UUID, kind: str, limit: int) -> list[list[int]]:
    insight = insight_type(kind)
    query = f"{insight.title}: {', '.join(insight.keywords)}"
    hits = owner.vectors.search(chat_id, owner.embedder.embed_query(query), limit=limit)
    return [[hit.first_message, hit.end_message] for hit in hits]


@celery_app.task(  # type: ignore[untyped-decorator]
    name=FORGET_CHAT_TASK, **infrastructure_retries(get_settings())
)
def forget_chat(chat_id: str) -> str:
    """A deleted chat's vectors, generated insights and questions' text go (its messages: the
    purge task)."""
    settings = get_settings()
    retrieval().vectors.delete_chat(UUID(chat_id))
    with psycopg.connect(settings.database_url, autocommit=True, connect_timeout=5) as conn:
        erased = erase_chat_insights(conn, UUID(chat_id))
        erase_chat_conversations(conn, UUID(chat_id))
    log.info("deleted chat forgotten", extra={"chat_id": chat_id, "insights_erased": erased})
    return "forgotten"
