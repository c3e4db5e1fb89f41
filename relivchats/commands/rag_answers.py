"""Asking a chat a question: load the conversation, search, fetch the text, ask the model, record.

The flow (`POST /api/rag/query`), in two steps so the API can stream the second:

1. `prepare`: the caller's chat from its events (404 otherwise); without an index, one indexing
   request (commands/chat_indexing.py) and `IndexingUnderway` (the API's 202). Otherwise the
   question is embedded here, in the API process, and only its vector goes to the search
   (adapters/chunk_search.py); chunks stored before speakers were recorded ask for their upgrade
   (202 again). The hits' messages are opened from the sealed content store, and the last turns
   of the conversation (its history) are read while the question is embedded.
2. `answer_stream`: the model's pieces as they come, then one `AnswerRecorded`. The turn (its
   sealed text, then `QuestionAsked` with `QuestionAnswered` or `QuestionFailed` in one save) is
   recorded when the model is done, so a turn is complete or failed, never half-written.

The question's text never leaves this process but sealed: not in events, logs, Redis or Celery.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import redis.asyncio as aioredis

from relivchats.adapters.chat_content import StoredMessage, messages_at
from relivchats.adapters.chunk_search import ChunkSearch
from relivchats.adapters.conversation_content import TurnOwner, TurnText, store_turn, turn_texts
from relivchats.adapters.crypto import ContentCipher
from relivchats.adapters.database import ReadPool
from relivchats.adapters.embeddings import LazyEmbedder
from relivchats.adapters.eventstore import AsyncEventStore
from relivchats.adapters.indexing_progress import IndexingProgress, read_progress
from relivchats.adapters.llm import LlmAnswer, LlmError, LlmProvider, LlmUnavailable, Passage, Turn
from relivchats.adapters.llm.base import QuotedMessage
from relivchats.adapters.vectorstore import ChunkHit
from relivchats.commands.chat_indexing import owned_chat, request_indexing
from relivchats.commands.conversations import TurnToRecord, load_conversation, record_turn
from relivchats.commands.unit_of_work import dispatch
from relivchats.domain.chats import Chat
from relivchats.domain.chunking import estimate_tokens
from relivchats.domain.conversations import SourceRange, conversation_id_for
from relivchats.domain.conversations_rules import Outcome, confidence_of
from relivchats.domain.uploads import MessageKind

INDEXING_RETRY_AFTER_S = 3


@dataclass(frozen=True)
class RagServices:
    """What answering needs; built once per API process (api/app.py)."""

    store: AsyncEventStore
    pool: ReadPool
    cipher: ContentCipher
    embedder: LazyEmbedder
    search: ChunkSearch
    llm: LlmProvider
    redis: aioredis.Redis
    key_prefix: str  # CELERY_KEY_PREFIX: where the indexer publishes its progress
    indexing_stale_after: timedelta


@dataclass(frozen=True)
class Question:
    chat_id: UUID
    user_id: UUID
    text: str
    max_chunks: int


@dataclass(frozen=True)
class IndexingUnderway:
    progress: IndexingProgress | None  # None: queued, no run has reported yet
    retry_after_s: int
    position: int


@dataclass(frozen=True)
class Source:
    chunk_index: int
    speakers: tuple[str, ...]
    start: datetime
    end: datetime
    message_count: int
    similarity: float


@dataclass(frozen=True)
class Timings:
    embed_ms: float
    search_ms: float
    fetch_ms: float


@dataclass(frozen=True)
class Ready:
    """A question with everything the model needs."""

    question: Question
    chat: Chat
    history: tuple[Turn, ...]
    hits: tuple[ChunkHit, ...]
    passages: tuple[Passage, ...]
    timings: Timings
    started: float  # perf_counter at the question's arrival


@dataclass(frozen=True)
class AnswerRecorded:
    turn_id: UUID
    answer: str
    sources: tuple[Source, ...]
    confidence: str
    response_time_ms: int
    position: int


class AnswerUnavailable(Exception):
    """The model could not answer; the turn is recorded as failed with `code`."""

    def __init__(self, code: str, position: int):
        super().__init__(code)
        self.code = code
        self.position = position


async def prepare(rag: RagServices, question: Question) -> Ready | IndexingUnderway:
    started = time.perf_counter()
    chat = await dispatch(rag.store, owned_chat, question.chat_id, question.user_id)
    if chat.indexed_chunks is None:
        rag.embedder.preload()  # while the chat is indexed, the API loads its embedder
        return await indexing_underway(rag, chat, "unindexed")
    history = asyncio.create_task(history_of(rag, chat.id, question.user_id))
    try:
        embedding = time.perf_counter()
        vector = await rag.embedder.embed_query(question.text)
        embedded = time.perf_counter()
        found = await rag.search.search(chat.id, vector, question.max_chunks)
        if any(hit.speakers is None for hit in found.hits):
            return await indexing_underway(rag, chat, "payload_upgrade")
        fetching = time.perf_counter()
        passages = await passages_of(rag, chat, found.hits)
        timings = Timings(
            embed_ms=(embedded - embedding) * 1000,
            search_ms=found.search_ms,
            fetch_ms=(time.perf_counter() - fetching) * 1000,
        )
        return Ready(question, chat, await history, tuple(found.hits), passages, timings, started)
    finally:
        history.cancel()  # a no-op once awaited


async def indexing_underway(rag: RagServices, chat: Chat, reason: str) -> IndexingUnderway:
    request = await dispatch(
        rag.store, request_indexing, chat.id, chat.owner_id, reason, rag.indexing_stale_after
    )
    progress = await read_progress(rag.redis, rag.key_prefix, chat.id)
    return IndexingUnderway(progress, INDEXING_RETRY_AFTER_S, request.position)


async def history_of(rag: RagServices, chat_id: UUID, user_id: UUID) -> tuple[Turn, ...]:
    """The conversation's last answered turns, opened, oldest first."""
    conversation = await dispatch(rag.store, load_conversation, chat_id, user_id)
    if conversation is None or not conversation.history():
        return ()
    records = conversation.history()
    async with rag.pool.connection() as conn:
        texts = await turn_texts(conn, rag.cipher, conversation.id, [r.content_id for r in records])
    opened = [texts.get(record.content_id) for record in records]
    return tuple(Turn(t.question, t.answer) for t in opened if t is not None and t.answer)


async def passages_of(
    rag: RagServices, chat: Chat, hits: Sequence[ChunkHit]
) -> tuple[Passage, ...]:
    seqs = sorted({seq for hit in hits for seq in range(hit.first_message, hit.end_message)})
    async with rag.pool.connection() as conn:
        messages = await messages_at(conn, rag.cipher, chat.id, chat.content_id, seqs)
    by_seq = {message.seq: message for message in messages if message.kind == MessageKind.TEXT}
    return tuple(_passage(chat, hit, by_seq) for hit in hits)


def _passage(chat: Chat, hit: ChunkHit, by_seq: dict[int, StoredMessage]) -> Passage:
    quoted = tuple(
        QuotedMessage(chat.participants[m.sender_index], m.sent_at, m.text)
        for seq in range(hit.first_message, hit.end_message)
        if (m := by_seq.get(seq)) is not None
    )
    return Passage(
        text="\n".join(f"{m.sender}: {' '.join(m.text.split())}" for m in quoted),
        start_time=hit.start_time,
        end_time=hit.end_time,
        speakers=speaker_names(chat, hit),
        messages=quoted,
        similarity=hit.similarity,
    )


def speaker_names(chat: Chat, hit: ChunkHit) -> tuple[str, ...]:
    return tuple(chat.participants[index] for index in hit.speakers or ())


async def answer_stream(rag: RagServices, ready: Ready) -> AsyncIterator[str | AnswerRecorded]:
    """The answer's pieces as the model writes them, then the recorded turn."""
    reply: LlmAnswer | None = None
    question = ready.question.text
    stream = rag.llm.answer_stream_async(question, ready.passages, ready.history)
    try:
        async with aclosing(stream):  # type: ignore[type-var]  # providers yield generators
            async for item in stream:
                if isinstance(item, LlmAnswer):
                    reply = item
                else:
                    yield item
    except LlmError as error:
        code = "provider_unavailable" if isinstance(error, LlmUnavailable) else "provider_refused"
        failed = await record(rag, ready, None, code)
        raise AnswerUnavailable(code, failed.position) from error
    assert reply is not None, "a provider's stream ends with its LlmAnswer"
    yield await record(rag, ready, reply, None)


async def answer(rag: RagServices, ready: Ready) -> AnswerRecorded:
    async for item in answer_stream(rag, ready):
        if isinstance(item, AnswerRecorded):
            return item
    raise AssertionError("answer_stream always ends with the recorded turn")


async def record(
    rag: RagServices, ready: Ready, reply: LlmAnswer | None, error: str | None
) -> AnswerRecorded:
    """Seal the turn's text, then append its events in one save."""
    question = ready.question
    turn_id, content_id = uuid.uuid4(), uuid.uuid4()
    owner = TurnOwner(
        conversation_id_for(question.chat_id, question.user_id), question.chat_id, question.user_id
    )
    text = TurnText(question.text, reply.text if reply else None)
    async with rag.pool.connection() as conn:
        await store_turn(conn, rag.cipher, content_id, owner, turn_id, text)
    sources = tuple(_source(ready.chat, hit) for hit in ready.hits)
    confidence = confidence_of(hit.similarity for hit in ready.hits)
    elapsed_ms = int((time.perf_counter() - ready.started) * 1000)
    outcome = _outcome(reply, error, confidence, ready.hits, elapsed_ms)
    turn = TurnToRecord(
        question.chat_id,
        question.user_id,
        turn_id,
        content_id,
        estimate_tokens(question.text),
        outcome,
    )
    position = await dispatch(rag.store, record_turn, turn)
    answer_text = reply.text if reply else ""
    return AnswerRecorded(turn_id, answer_text, sources, confidence, elapsed_ms, position)


def _outcome(
    reply: LlmAnswer | None,
    error: str | None,
    confidence: str,
    hits: Sequence[ChunkHit],
    elapsed_ms: int,
) -> Outcome:
    if reply is None:
        return Outcome(error=error or "failed", latency_ms=elapsed_ms)
    return Outcome(
        model=reply.model,
        prompt_tokens=reply.prompt_tokens,
        output_tokens=reply.output_tokens,
        thinking_tokens=reply.thinking_tokens,
        latency_ms=elapsed_ms,
        offline=reply.offline,
        confidence=confidence,
        sources=tuple(_source_range(hit) for hit in hits),
    )


def _source_range(hit: ChunkHit) -> SourceRange:
    return SourceRange(
        chunk_index=hit.chunk_index,
        first_message=hit.first_message,
        end_message=hit.end_message,
        message_count=hit.message_count,
        start=hit.start_time,
        end=hit.end_time,
        speakers=hit.speakers or (),
        similarity=round(hit.similarity, 4),
    )


def _source(chat: Chat, hit: ChunkHit) -> Source:
    return Source(
        chunk_index=hit.chunk_index,
        speakers=speaker_names(chat, hit),
        start=hit.start_time,
        end=hit.end_time,
        message_count=hit.message_count,
        similarity=round(hit.similarity, 4),
    )
