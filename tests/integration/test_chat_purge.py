"""The purge task erases deleted chats' content once, erases orphaned content after its grace
period, and never touches the content of a live chat, however far the read model lags."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import psycopg
import pytest

from relivchats.adapters.chat_content import store_content
from relivchats.adapters.crypto import ContentCipher
from relivchats.adapters.eventstore import EventStore
from relivchats.adapters.whatsapp import parse_upload
from relivchats.commands.chats import delete_chat, record_upload
from relivchats.commands.unit_of_work import execute
from relivchats.domain.chats import ChatPurged
from relivchats.domain.chats_rules import UploadSummary
from relivchats.domain.statistics import compute_statistics
from relivchats.projections.chats import ChatsProjection
from relivchats.projections.rebuild import rebuild
from relivchats.settings import Settings
from relivchats.workers.app import PURGE_TASK, create_celery
from relivchats.workers.maintenance import purge_content
from tests.chat_uploads import small_export
from tests.helpers import eventually
from tests.services import REDIS_URL
from tests.worker_platform import start_maintenance_worker

NO_GRACE = timedelta(0)
AN_HOUR = timedelta(hours=1)


def write_content(settings: Settings, chat_id: uuid.UUID) -> UploadSummary:
    """What an upload process does: parse and store, without appending the event."""
    chat = parse_upload(small_export(count=20, seed=9))
    content_id = uuid.uuid4()
    with psycopg.connect(settings.database_url) as conn:
        store_content(
            conn,
            ContentCipher.from_settings(settings),
            chat_id,
            content_id,
            chat,
            compute_statistics(chat),
        )
    times = chat.timestamps.astype("datetime64[s]")
    return UploadSummary(
        chat.participants, len(chat), times[0].item(), times[-1].item(), content_id
    )


def uploaded_chat(store: EventStore, settings: Settings) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    owner_id, chat_id = uuid.uuid4(), uuid.uuid4()
    summary = write_content(settings, chat_id)
    execute(store, record_upload, chat_id, owner_id, summary, None)
    return owner_id, chat_id, summary.content_id


def content_rows(database_url: str, content_id: uuid.UUID) -> tuple[int, int]:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM chat_messages WHERE content_id = %s),"
            " (SELECT count(*) FROM chat_contents WHERE content_id = %s)",
            (content_id, content_id),
        ).fetchone()
        assert row is not None
        return row[0], row[1]


def purges(store: EventStore, chat_id: uuid.UUID) -> int:
    return sum(isinstance(event, ChatPurged) for event in store.load(chat_id))


def purge(store: EventStore, settings: Settings, grace: timedelta = AN_HOUR) -> None:
    purge_content(store, settings.database_url, 100, grace)


async def projector_reached(projector, settings: Settings, position: int) -> None:
    with psycopg.connect(settings.database_url) as conn:

        async def reached() -> bool:
            row = conn.execute(
                "SELECT position FROM projection_positions WHERE name = 'chats'"
            ).fetchone()
            return row is not None and row[0] >= position

        await eventually(reached)


async def test_purge_erases_a_deleted_chats_content_and_records_it_once(store, settings, projector):
    owner_id, chat_id, content_id = uploaded_chat(store, settings)
    deleted = execute(store, delete_chat, chat_id, owner_id)
    await projector_reached(projector, settings, deleted.position)

    await asyncio.to_thread(purge, store, settings)
    await asyncio.to_thread(purge, store, settings)

    assert content_rows(settings.database_url, content_id) == (0, 0)
    assert purges(store, chat_id) == 1


async def test_orphaned_content_is_erased_only_after_its_grace_period(store, settings, projector):
    orphan = write_content(settings, uuid.uuid4()).content_id  # its upload never appended

    await asyncio.to_thread(purge, store, settings, AN_HOUR)
    kept = content_rows(settings.database_url, orphan)
    await asyncio.to_thread(purge, store, settings, NO_GRACE)

    assert kept == (20, 1)
    assert content_rows(settings.database_url, orphan) == (0, 0)


async def test_a_live_chats_content_survives_a_read_model_that_lags(private_database_url):
    settings = Settings(database_url=private_database_url)  # no projector: no read rows at all
    lagging_store = EventStore(settings)
    try:
        _, chat_id, content_id = uploaded_chat(lagging_store, settings)

        await asyncio.to_thread(purge, lagging_store, settings, NO_GRACE)

        assert content_rows(private_database_url, content_id) == (20, 1)
        assert purges(lagging_store, chat_id) == 0
    finally:
        lagging_store.close()


async def test_a_deleted_chat_the_read_model_has_not_queued_is_still_purged(private_database_url):
    settings = Settings(database_url=private_database_url)
    lagging_store = EventStore(settings)
    try:
        owner_id, chat_id, content_id = uploaded_chat(lagging_store, settings)
        execute(lagging_store, delete_chat, chat_id, owner_id)

        await asyncio.to_thread(purge, lagging_store, settings, NO_GRACE)

        assert content_rows(private_database_url, content_id) == (0, 0)
        assert purges(lagging_store, chat_id) == 1
    finally:
        lagging_store.close()


@pytest.mark.slow
async def test_a_celery_worker_purges_a_deleted_chat(private_database_url, tmp_path):
    settings = Settings(
        database_url=private_database_url,
        redis_url=REDIS_URL,
        celery_key_prefix=f"test-{uuid.uuid4().hex}:",
    )
    store = EventStore(settings)
    worker = start_maintenance_worker(settings, tmp_path / "worker.log", concurrency=1)
    try:
        owner_id, chat_id, content_id = uploaded_chat(store, settings)
        execute(store, delete_chat, chat_id, owner_id)
        await rebuild(private_database_url, ChatsProjection())  # the read model queues it
        create_celery(settings).send_task(PURGE_TASK)

        async def purged() -> bool:
            return purges(store, chat_id) == 1

        await eventually(purged, within=60)
        assert content_rows(private_database_url, content_id) == (0, 0)
    finally:
        worker.terminate()
        await asyncio.to_thread(worker.wait, 20)
        store.close()
