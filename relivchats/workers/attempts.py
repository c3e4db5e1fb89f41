"""Bounded retries with backoff for the insight tasks, and the error codes their failures record.

A task retries by publishing itself again with a countdown (Celery `retry`), so a worker is not
held while it waits; the countdown stays well under the broker's visibility timeout, because a
task that waits longer than that is handed out a second time. When the attempts are used up
the caller records the failure as an event: that is what settles the job, so nothing is lost.

Infrastructure errors (the database or the event store unreachable, an aggregate too busy) are
not the insight's fault: the whole task is retried for them (`infrastructure_retries`); should
they outlast those retries, the reservation's expiry releases the coins.
"""

from __future__ import annotations

import random
from typing import Any

import psycopg
from celery.exceptions import SoftTimeLimitExceeded
from eventsourcing.persistence import PersistenceError

from relivchats.adapters.llm import LlmError, LlmInvalidOutput, LlmUnavailable
from relivchats.adapters.storage import StorageUnavailable
from relivchats.domain.errors import Busy
from relivchats.settings import Settings

INFRASTRUCTURE_ERRORS: tuple[type[BaseException], ...] = (
    psycopg.Error,
    PersistenceError,
    StorageUnavailable,
    Busy,
)
ERROR_CODES: tuple[tuple[type[BaseException], str], ...] = (
    (LlmUnavailable, "provider_unavailable"),
    (LlmInvalidOutput, "invalid_output"),
    (LlmError, "provider_refused"),
    (SoftTimeLimitExceeded, "timed_out"),
)


def error_code(error: BaseException) -> str:
    """What a failure records: a code, never the exception's text (it may quote the chat)."""
    return next((code for kind, code in ERROR_CODES if isinstance(error, kind)), "internal_error")


def attempt_number(task: Any) -> int:
    retries: int = task.request.retries
    return retries + 1


def backoff_s(settings: Settings, failures: int) -> float:
    """The wait after the n-th failure: doubling, jittered, capped under the visibility timeout."""
    ceiling = settings.celery_visibility_timeout_s / 2
    delay = min(ceiling, settings.insight_retry_backoff_s * 2.0 ** (failures - 1))
    return delay * random.uniform(0.5, 1.0)  # noqa: S311 (jitter, not security)


def retry_later(task: Any, error: BaseException, attempts: int, settings: Settings) -> None:
    """Publish the task again after a backoff unless `attempts` are used up (then return)."""
    done = attempt_number(task)
    if done >= attempts:
        return
    raise task.retry(exc=error, countdown=backoff_s(settings, done), max_retries=attempts)


def infrastructure_retries(settings: Settings) -> dict[str, Any]:
    """Celery task options: retry the whole task, with backoff, on infrastructure errors."""
    return {
        "autoretry_for": INFRASTRUCTURE_ERRORS,
        "retry_backoff": max(1, round(settings.insight_retry_backoff_s)),
        "retry_backoff_max": settings.celery_visibility_timeout_s // 2,
        "retry_jitter": True,
        "max_retries": 5,
    }
