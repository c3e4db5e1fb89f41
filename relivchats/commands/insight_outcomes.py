"""Insight commands of the workers and the sweeper: start generation, record outcomes, settle.

Every command is keyed by the job and the insight type, so a task delivered twice (a worker
lost mid-task, a redelivery) records nothing the second time. The command that records a job's
last pending outcome settles it in the same save: `JobSettled`, the reservation's capture or
release, and the slot's closing appear together or not at all, so a job settles exactly once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from relivchats.adapters.eventstore import EventStore, VersionConflict
from relivchats.commands.account_cache import account_cache
from relivchats.commands.chats import load_chat
from relivchats.commands.credits import LedgerChange
from relivchats.commands.insights import (
    current_account,
    load_job,
    load_slot,
    one_at_a_time,
    remember_account,
)
from relivchats.domain import chats, credits_rules, insight_rules
from relivchats.domain.credits import CreditEvent, ReservationReleased, account_id_for
from relivchats.domain.events import Event, fold
from relivchats.domain.insight_rules import Failure, Success
from relivchats.domain.insights import InsightJob, JobNotFound, JobSettled, evolve_job


@dataclass(frozen=True)
class RecordedOutcomes:
    job: InsightJob
    recorded: bool  # False: every outcome was already known (a repeated task)
    settled: bool  # this save settled the job
    position: int


def _job_or_not_found(store: EventStore, job_id: UUID) -> InsightJob:
    job = load_job(store, job_id)
    if job is None:
        raise JobNotFound()
    return job


def start_generation(
    store: EventStore, job_id: UUID, chunks: int, excerpts: dict[str, list[list[int]]]
) -> int | None:
    """Record the chat's index and each type's excerpts; None when already recorded."""

    def attempt() -> int | None:
        job = _job_or_not_found(store, job_id)
        events = insight_rules.request_generation(
            job, load_chat(store, job.chat_id), chunks, excerpts
        )
        return store.append(*events) if events else None

    return one_at_a_time(store, _job_or_not_found(store, job_id).user_id, attempt)


def record_outcomes(
    store: EventStore, job_id: UUID, outcomes: Sequence[Success | Failure]
) -> RecordedOutcomes:
    return _recorded(store, job_id, lambda job: list(outcomes), chat_failure=None)


def fail_pending(
    store: EventStore, job_id: UUID, error: str, attempts: int, *, indexing_failed: bool
) -> RecordedOutcomes:
    """Every insight still pending fails with `error` (the chat could not be indexed, or is
    gone); the job settles released in the same save."""
    return _recorded(
        store,
        job_id,
        lambda job: [Failure(kind, error, attempts) for kind in job.pending_types],
        chat_failure=error if indexing_failed else None,
    )


def _recorded(
    store: EventStore,
    job_id: UUID,
    outcomes_for: Callable[[InsightJob], list[Success | Failure]],
    chat_failure: str | None,
) -> RecordedOutcomes:
    def attempt() -> RecordedOutcomes:
        job = _job_or_not_found(store, job_id)
        slot = load_slot(store, job.chat_id, job.category)
        account = current_account(store, job.user_id)
        events = insight_rules.record_outcomes(job, outcomes_for(job), slot, account)
        if events and chat_failure is not None:
            chat = load_chat(store, job.chat_id)
            events = [*chats.record_indexing_failed(chat, chat_failure), *events]
        if not events:
            return RecordedOutcomes(job, False, False, store.head())
        position = store.append(*events)
        remember_account(store, account, events)
        after = fold(evolve_job, [e for e in events if e.originator_id == job.id], job)
        assert after is not None
        settled = any(isinstance(event, JobSettled) for event in events)
        return RecordedOutcomes(after, True, settled, position)

    return one_at_a_time(store, _job_or_not_found(store, job_id).user_id, attempt)


def expire_due(store: EventStore, user_id: UUID, at: datetime) -> LedgerChange:
    """The sweeper's step: release the account's expired reservations and, in the same save,
    mark their jobs expired and free their unlock slots."""

    accounts = account_cache(store)
    account_id = account_id_for(user_id)

    def attempt() -> LedgerChange:
        # As the credit commands do: decide on the cached account; "nothing due" is believed
        # only once decided again on the caught-up account, and a stale decision fails at the
        # append (its version is taken) and is made again.
        account = accounts.current(account_id)
        releases = credits_rules.expire_due(account, at)
        if not releases:
            account = accounts.caught_up(account_id, account)
            releases = credits_rules.expire_due(account, at)
        assert account is not None  # expire_due refuses a missing account
        if not releases:
            return LedgerChange(account, (), store.head())
        events: list[Event] = list(releases)
        for released in releases:
            assert isinstance(released, ReservationReleased)
            job = load_job(store, released.job_id)
            if job is not None:
                slot = load_slot(store, job.chat_id, job.category)
                events += insight_rules.expire(job, slot, released)
        try:
            position = store.append(*events)
        except VersionConflict:
            accounts.caught_up(account_id, account)
            raise
        after = remember_account(store, account, events)
        assert after is not None
        recorded = tuple(event for event in events if isinstance(event, CreditEvent))
        return LedgerChange(after, recorded, position)

    return one_at_a_time(store, user_id, attempt)
