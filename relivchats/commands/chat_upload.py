"""Uploading a chat: all of it stored, or none of it visible.

Content rows are not events, so they cannot share the event's transaction. The order is:
1. an upload process parses the file and writes all its content (messages, sealed statistics)
   in ONE transaction, under a fresh `content_id` (adapters/ingest.py);
2. `ChatUploaded` is appended, naming that content. This is the moment the chat exists: every
   read starts from the `chats` read row, which only that event creates.
A refused file stops at 1 with nothing written. If 2 fails, or a concurrent upload under the same
Idempotency-Key wins it, the content no event names is erased here, after checking the chat's
events; if that check cannot run (the database is down, the request was cancelled while the
append was in flight) the purge task erases such orphans after `ORPHAN_CONTENT_GRACE_S`, with
the same check. Content named by an event is never erased by either path.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass
from uuid import UUID

from relivchats.adapters.crypto import ContentCipher
from relivchats.adapters.eventstore import AsyncEventStore
from relivchats.adapters.ingest import IngestPool
from relivchats.commands.chats import earlier_upload, record_upload
from relivchats.commands.unit_of_work import dispatch
from relivchats.domain import chats
from relivchats.domain.chats import Chat, chat_id_for

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UploadedChat:
    chat: Chat
    changed: bool  # False: the key's chat was uploaded before, with this file
    position: int


async def upload_chat(
    store: AsyncEventStore,
    pool: IngestPool,
    cipher: ContentCipher,
    owner_id: UUID,
    upload: bytes,
    idempotency_key: str | None,
) -> UploadedChat:
    chat_id, digest = uuid.uuid4(), None
    if idempotency_key is not None:
        chat_id = chat_id_for(owner_id, idempotency_key)
        digest = await asyncio.to_thread(cipher.digest, upload)  # 25 MB: off the loop
        earlier = await dispatch(store, earlier_upload, chat_id, owner_id, digest)
        if earlier is not None:
            return UploadedChat(earlier.chat, False, earlier.position)
    content_id = uuid.uuid4()
    started = time.perf_counter()
    ingested = await pool.ingest(upload, chat_id, content_id)
    appending = time.perf_counter()
    try:
        recorded = await dispatch(store, record_upload, chat_id, owner_id, ingested.summary, digest)
    except Exception:
        await _erase_unless_named(store, pool, chat_id, content_id)
        raise
    if not recorded.changed:  # a concurrent upload with the same key and file won the append
        await _erase_unless_named(store, pool, chat_id, content_id)
    log.info(
        "chat uploaded",
        extra={
            "chat_id": str(chat_id),
            "new_chat": recorded.changed,
            "messages": ingested.summary.message_count,
            "parse_s": round(ingested.parse_s, 3),
            "statistics_s": round(ingested.statistics_s, 3),
            "store_s": round(ingested.store_s, 3),
            "append_s": round(time.perf_counter() - appending, 3),
            "ingest_wall_s": round(appending - started, 3),
            "process_peak_rss_mb": round(ingested.process_peak_rss_mb, 1),
            "position": recorded.position,
        },
    )
    return UploadedChat(recorded.chat, recorded.changed, recorded.position)


async def _erase_unless_named(
    store: AsyncEventStore, pool: IngestPool, chat_id: UUID, content_id: UUID
) -> None:
    try:
        chat = chats.replay(await store.load(chat_id))
        if chat is None or chat.content_id != content_id:
            await pool.discard(content_id)
    except Exception:  # the purge task erases orphans later, after the same check
        log.warning("orphaned chat content left for the purge task", exc_info=True)
