"""A chat is fully stored or absent: content no event names is erased, racing uploads under one
Idempotency-Key make one chat, and the upload processes survive what kills one of them."""

from __future__ import annotations

import asyncio
import os
import uuid

import asyncpg
import pytest

from relivchats.adapters.eventstore import AsyncEventStore, EventStore
from relivchats.adapters.ingest import IngestInterrupted, IngestPool
from relivchats.commands.chat_upload import upload_chat
from relivchats.domain.chats import ChatUploaded, chat_id_for
from relivchats.domain.events import Event
from relivchats.domain.uploads import ChatTooLargeToProcess
from tests.chat_uploads import small_export
from tests.fakes.chat_exports import STYLE_BY_NAME, generate_chat, render_export


class AppendFails:
    """The real store, except that appending the upload's event fails."""

    def __init__(self, store: EventStore):
        self.store = store
        self.command_max_attempts = store.command_max_attempts

    def load(self, aggregate_id: uuid.UUID, after: int | None = None) -> list[Event]:
        return self.store.load(aggregate_id, after)

    def append(self, *events: Event) -> int:
        if any(isinstance(event, ChatUploaded) for event in events):
            raise ConnectionError("the database went away")
        return self.store.append(*events)

    def head(self) -> int:
        return self.store.head()

    def close(self) -> None:
        """The real store is the app's: it closes it."""


async def contents_of(database_url: str, chat_id: uuid.UUID) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetchval("SELECT count(*) FROM chat_contents WHERE chat_id = $1", chat_id)
    finally:
        await conn.close()


async def test_content_is_erased_when_its_event_cannot_be_appended(app, settings):
    owner = uuid.uuid4()
    store = AsyncEventStore(AppendFails(app.state.event_store.store), threads=2)

    try:
        with pytest.raises(ConnectionError):
            await upload_chat(
                store, app.state.ingest_pool, app.state.content_cipher, owner, small_export(), "k"
            )
    finally:
        store.close()

    chat_id = chat_id_for(owner, "k")
    assert await contents_of(settings.database_url, chat_id) == 0
    assert await app.state.event_store.load(chat_id) == []


async def test_racing_uploads_under_one_key_make_one_chat_and_keep_one_content(app, settings):
    owner, export = uuid.uuid4(), small_export(count=30)
    state = app.state

    both = await asyncio.gather(
        *(
            upload_chat(
                state.event_store, state.ingest_pool, state.content_cipher, owner, export, "k"
            )
            for _ in range(2)
        )
    )

    assert both[0].chat.id == both[1].chat.id
    assert sorted(upload.changed for upload in both) == [False, True]
    assert await contents_of(settings.database_url, both[0].chat.id) == 1


@pytest.mark.slow
async def test_a_chat_beyond_the_memory_cap_is_refused_and_the_next_upload_works(settings):
    pool = IngestPool(settings.model_copy(update={"upload_worker_memory_mb": 650}))
    style = STYLE_BY_NAME["android_eu_24h"]
    big = render_export(generate_chat(300_000, style=style), style).encode()
    try:
        with pytest.raises(ChatTooLargeToProcess) as refused:
            await pool.ingest(big, uuid.uuid4(), uuid.uuid4())
        stored = await pool.ingest(small_export(), uuid.uuid4(), uuid.uuid4())
    finally:
        await asyncio.to_thread(pool.close)

    assert refused.value.details["limit_mb"] == 650
    assert stored.summary.message_count == 12


async def test_a_database_outage_while_storing_is_a_retryable_refusal(settings):
    pool = IngestPool(settings.model_copy(update={"database_url": "postgresql://127.0.0.1:1/x"}))
    try:
        with pytest.raises(IngestInterrupted) as interrupted:
            await pool.ingest(small_export(), uuid.uuid4(), uuid.uuid4())
    finally:
        await asyncio.to_thread(pool.close)

    assert interrupted.value.code == "upload_interrupted"


async def test_an_upload_process_that_dies_is_replaced(settings):
    pool = IngestPool(settings)
    try:
        with pytest.raises(IngestInterrupted):
            await pool._run(os._exit, 1)
        stored = await pool.ingest(small_export(), uuid.uuid4(), uuid.uuid4())
    finally:
        await asyncio.to_thread(pool.close)

    assert stored.summary.message_count == 12
