"""The dispatcher: a projection whose effect is enqueuing Celery tasks (architecture.md section 5).

It follows the log like any projection, and the projector records its position only after the
batch's tasks were accepted by the broker, so no job is ever "fired and forgotten": a crash
before that point sends the batch again. Delivery is therefore at least once, and every task is
idempotent by its event's keys (an outcome for a (job, type) that has one is a no-op).

- `JobRequested` -> `indexing.prepare_job(job)`: index the chat if needed, choose excerpts.
- `GenerationRequested` -> one `generation.generate_insight(job, type)` per insight type.
- `ChatDeleted` -> `indexing.forget_chat(chat)`: its vectors and generated insights go.
- `IndexingRequested` (a question found the chat unindexed) -> `indexing.index_chat(chat)`.
- `UserDeletionRequested` -> `maintenance.tell_identity_provider(user)` (retried with backoff).

It owns no tables, and it is never rebuilt: replaying it would send every task ever sent again
(`projections/rebuild.py` refuses it; `rebuild all` covers read models only). Broker calls are
blocking, so they run in a thread, off the projector's event loop.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, ClassVar

import asyncpg

from relivchats.domain.chats import ChatDeleted, IndexingRequested
from relivchats.domain.events import Event
from relivchats.domain.insights import GenerationRequested, JobRequested
from relivchats.domain.users import UserDeletionRequested
from relivchats.projections.base import Envelope, topics_of

PREPARE_JOB_TASK = "indexing.prepare_job"
FORGET_CHAT_TASK = "indexing.forget_chat"
INDEX_CHAT_TASK = "indexing.index_chat"
GENERATE_TASK = "generation.generate_insight"
TELL_IDENTITY_PROVIDER_TASK = "maintenance.tell_identity_provider"


@dataclass(frozen=True)
class Task:
    name: str
    args: tuple[str, ...]
    task_id: str  # derived from the event, so a resend is recognisable in the broker's logs


def tasks_for(event: Event) -> list[Task]:
    match event:
        case JobRequested(originator_id=job_id):
            return [Task(PREPARE_JOB_TASK, (str(job_id),), f"prepare-{job_id}")]
        case GenerationRequested(originator_id=job_id, excerpts=excerpts):
            return [
                Task(GENERATE_TASK, (str(job_id), kind), f"generate-{job_id}-{kind}")
                for kind in sorted(excerpts)
            ]
        case ChatDeleted(originator_id=chat_id):
            return [Task(FORGET_CHAT_TASK, (str(chat_id),), f"forget-{chat_id}")]
        case IndexingRequested(originator_id=chat_id, originator_version=version):
            return [Task(INDEX_CHAT_TASK, (str(chat_id),), f"index-{chat_id}-{version}")]
        case UserDeletionRequested(originator_id=user_id):
            task_id = f"tell-identity-provider-{user_id}"
            return [Task(TELL_IDENTITY_PROVIDER_TASK, (str(user_id),), task_id)]
    return []


class DispatcherProjection:
    name: ClassVar[str] = "dispatcher"
    topics: ClassVar[tuple[str, ...]] = topics_of(
        JobRequested, GenerationRequested, ChatDeleted, IndexingRequested, UserDeletionRequested
    )
    tables: ClassVar[tuple[str, ...]] = ()
    effects: ClassVar[bool] = True  # replaying it has side effects: never rebuilt

    def __init__(self, celery: Any = None):
        self._celery = celery  # None: the workers' app, from the process's settings

    async def apply(self, conn: asyncpg.Connection, batch: list[Envelope]) -> None:
        tasks = [task for envelope in batch for task in tasks_for(envelope.event)]
        if tasks:
            await asyncio.to_thread(self._send, tasks)

    def _send(self, tasks: list[Task]) -> None:
        celery = self._celery or _workers_app()
        for task in tasks:
            celery.send_task(task.name, args=list(task.args), task_id=task.task_id)


def _workers_app() -> Any:
    from relivchats.workers.app import celery_app  # imported late: only the projector sends

    return celery_app
