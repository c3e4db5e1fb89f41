"""The beat task that erases deleted chats' content, and content that no chat names.

Deleted chats: the `chats` read model queues each one (`chats_pending_purge`); the task erases
its messages and statistics, then appends `ChatPurged` (the projection then drops the queue
row). Erasing is idempotent and `purge` decides once from the chat's events, so a purge run
twice, or on two workers at once, erases once and records once.

Orphans: content written by an upload whose `ChatUploaded` was never appended (the append
failed, the API process died). Candidates are contents older than `ORPHAN_CONTENT_GRACE_S` that
no live read row names; each is confirmed against the chat's events before it is erased, so a
read model that lags behind never costs a live chat its content.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

import psycopg

from relivchats.adapters.chat_content import erase_content, unreferenced_content
from relivchats.adapters.eventstore import EventStore
from relivchats.commands.chats import mark_purged
from relivchats.commands.unit_of_work import execute
from relivchats.domain import chats
from relivchats.domain.errors import DomainError
from relivchats.projections.chat_queries import PENDING_PURGE_SQL
from relivchats.settings import get_settings
from relivchats.workers.app import PURGE_TASK, celery_app, worker_store
from relivchats.workers.metrics import observe_purge

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PurgeResult:
    chats: int  # deleted chats whose content was erased and recorded as purged
    orphans: int  # contents no chat names, erased
    failed: int


def purge_content(
    store: EventStore, database_url: str, batch: int, orphan_grace: timedelta
) -> PurgeResult:
    purged = orphans = failed = 0
    with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as conn:
        for chat_id, content_id in conn.execute(PENDING_PURGE_SQL, (batch,)).fetchall():
            try:
                _purge_chat(conn, store, chat_id, content_id)
                purged += 1
            except DomainError as error:  # one busy chat must not stop the run
                failed += 1
                log.warning(
                    "purge skipped a chat", extra={"chat_id": str(chat_id), "error": error.code}
                )
        for content_id, chat_id in unreferenced_content(conn, orphan_grace, batch):
            chat = chats.replay(store.load(chat_id))
            if chat is not None and chat.content_id == content_id:
                if chat.deleted:  # deleted, and the read model has not queued it yet
                    _purge_chat(conn, store, chat_id, content_id)
                    purged += 1
                continue  # a live chat the read model has not caught up with
            erase_content(conn, content_id)
            orphans += 1
    result = PurgeResult(chats=purged, orphans=orphans, failed=failed)
    observe_purge(purged, orphans, failed)
    if purged or orphans or failed:
        log.info("chat content purged", extra=asdict(result))
    return result


def _purge_chat(
    conn: psycopg.Connection[Any], store: EventStore, chat_id: UUID, content_id: UUID
) -> None:
    """Erase one deleted chat's content, then record it; erasing twice is harmless."""
    erase_content(conn, content_id)
    execute(store, mark_purged, chat_id)


@celery_app.task(name=PURGE_TASK)  # type: ignore[untyped-decorator]
def purge_deleted_chats() -> dict[str, Any]:
    settings = get_settings()
    result = purge_content(
        worker_store(),
        settings.database_url,
        settings.chat_purge_batch,
        timedelta(seconds=settings.orphan_content_grace_s),
    )
    return asdict(result)
