"""Optimistic concurrency: on a version conflict, reload and decide again."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from prometheus_client import Counter

from relivchats.adapters.eventstore import EventStore, VersionConflict
from relivchats.adapters.storage import backoff_s
from relivchats.domain.errors import Busy

T = TypeVar("T")

BASE_BACKOFF_S = 0.005
MAX_BACKOFF_S = 0.2

VERSION_CONFLICT_RETRIES = Counter(
    "relivchats_version_conflict_retries_total",
    "Commands reloaded and decided again because another writer appended first",
)


def with_retries(store: EventStore, attempt: Callable[[], T], at_least: int = 0) -> T:
    """Run `attempt` (load, decide, append) until it appends without a conflict.

    The duplicate key *is* the concurrency control: another writer got there first, so the
    state we decided on is stale. Full jitter keeps colliding writers from colliding again.
    At most `COMMAND_MAX_ATTEMPTS` tries (or `at_least`, for commands that collide by design).
    """
    max_attempts = max(store.command_max_attempts, at_least)
    for failures in range(1, max_attempts + 1):
        try:
            return attempt()
        except VersionConflict:
            VERSION_CONFLICT_RETRIES.inc()
            time.sleep(backoff_s(failures, BASE_BACKOFF_S, cap_s=MAX_BACKOFF_S))
    raise Busy("too many concurrent changes; please try again", attempts=max_attempts)
