"""The `indexing` queue's task for questions: build (or upgrade) a chat's index on request.

A question about a chat without a usable index appends `IndexingRequested` to the chat (one per
open request, however many questions race: they meet at the chat's version); the dispatcher
sends this task. It runs in the indexer, the vector store's single owner, on the same resumable
path as an unlock's indexing (workers/indexing.index_chat): chunks already stored are not
embedded again, so an unlock's job and a question racing on one chat share the work instead of
doubling it (they run one after the other in the one indexer process, and the second finds every
chunk stored). Chunks stored before speakers were recorded get theirs in place, without being
embedded again. It ends the request with `ChatIndexed` (or `IndexingFailed` after
`INDEXING_ATTEMPTS` failed runs). No coins are involved.
"""

from __future__ import annotations

import logging
import time
from typing import Any
from uuid import UUID

from relivchats.adapters.eventstore import EventStore
from relivchats.commands.chat_indexing import record_indexed, record_indexing_failed
from relivchats.commands.unit_of_work import execute
from relivchats.domain import chats
from relivchats.projections.dispatcher import INDEX_CHAT_TASK
from relivchats.settings import Settings, get_settings
from relivchats.workers.app import celery_app, worker_store
from relivchats.workers.indexing import MARGIN_S, index_chat, indexing_try, retrieval

log = logging.getLogger(__name__)


@celery_app.task(name=INDEX_CHAT_TASK, bind=True, max_retries=None)  # type: ignore[untyped-decorator]
def index_for_questions(self: Any, chat_id: str, failures: int = 0) -> str:
    settings = get_settings()

    def give_up(reason: str, _failures: int) -> None:
        execute(worker_store(), record_indexing_failed, UUID(chat_id), reason)

    return indexing_try(
        self,
        failures,
        {"chat_id": chat_id},
        lambda: index_requested(worker_store(), settings, UUID(chat_id)),
        give_up,
    )


def index_requested(store: EventStore, settings: Settings, chat_id: UUID) -> str:
    chat = chats.replay(store.load(chat_id))
    if chat is None or chat.deleted:
        return "chat deleted"
    if chat.indexing_requested_at is None:
        return "already indexed"  # a repeated delivery, or an unlock's job got there first
    deadline = time.monotonic() + max(5, settings.celery_task_soft_time_limit_s - MARGIN_S)
    chunks = index_chat(retrieval(), settings, chat, deadline)
    execute(store, record_indexed, chat.id, chunks)
    return "indexed"
