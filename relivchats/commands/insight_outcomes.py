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

from relivchats.commands.insights import load_slot
from relivchats.commands.unit_of_work import Saved, UnitOfWork
from relivchats.domain import chats, chats_rules, credits_rules, insights, insights_rules
from relivchats.domain.credits import CreditAccount, CreditEvent, ReservationReleased
from relivchats.domain.events import Event
from relivchats.domain.insights import InsightJob, JobNotFound, JobSettled
from relivchats.domain.insights_rules import Failure, Success

OutcomesFor = Callable[[InsightJob], list[Success | Failure]]


@dataclass(frozen=True)
class LedgerChange:
    """The account after a command and what its save did (appended nothing for a repeat)."""

    account: CreditAccount
    saved: Saved

    @property
    def recorded(self) -> tuple[CreditEvent, ...]:
        return tuple(event for event in self.saved.events if isinstance(event, CreditEvent))

    @property
    def position(self) -> int:
        return self.saved.position

    @property
    def changed(self) -> bool:
        return self.saved.changed


@dataclass(frozen=True)
class RecordedOutcomes:
    job: InsightJob
    changed: bool  # False: every outcome was already known (a repeated task)
    settled: bool  # this save settled the job
    position: int


def start_generation(
    uow: UnitOfWork, job_id: UUID, chunks: int, excerpts: dict[str, list[list[int]]]
) -> int | None:
    """Record the chat's index and each type's excerpts; None when already recorded."""
    job = _job_or_not_found(uow, job_id)
    chat = uow.load(job.chat_id, chats.evolve)
    uow.record(*insights_rules.request_generation(job, chat, chunks, excerpts))
    saved = uow.save()
    return saved.position if saved.changed else None


def record_outcomes(
    uow: UnitOfWork, job_id: UUID, outcomes: Sequence[Success | Failure]
) -> RecordedOutcomes:
    return _recorded(uow, job_id, lambda job: list(outcomes), chat_failure=None)


def fail_pending(
    uow: UnitOfWork, job_id: UUID, error: str, attempts: int, *, indexing_failed: bool
) -> RecordedOutcomes:
    """Every insight still pending fails with `error` (the chat could not be indexed, or is
    gone); the job settles released in the same save."""
    return _recorded(
        uow,
        job_id,
        lambda job: [Failure(kind, error, attempts) for kind in job.pending_types],
        chat_failure=error if indexing_failed else None,
    )


def _recorded(
    uow: UnitOfWork, job_id: UUID, outcomes_for: OutcomesFor, chat_failure: str | None
) -> RecordedOutcomes:
    job = _job_or_not_found(uow, job_id)
    slot = load_slot(uow, job.chat_id, job.category)
    events = insights_rules.record_outcomes(job, outcomes_for(job), slot, uow.account(job.user_id))
    if events and chat_failure is not None:
        chat = uow.load(job.chat_id, chats.evolve)
        events = [*chats_rules.record_indexing_failed(chat, chat_failure), *events]
    uow.record(*events)
    saved = uow.save()
    settled = any(isinstance(event, JobSettled) for event in saved.events)
    return RecordedOutcomes(_job_or_not_found(uow, job_id), saved.changed, settled, saved.position)


def expire_due(uow: UnitOfWork, user_id: UUID, at: datetime) -> LedgerChange:
    """The sweeper's step: release the account's expired reservations and, in the same save,
    mark their jobs expired and free their unlock slots."""
    releases = credits_rules.expire_due(uow.account(user_id), at)
    uow.record(*releases, *expired_jobs(uow, releases))
    saved = uow.save()
    account = uow.account(user_id)
    assert account is not None  # expire_due refuses a missing account
    return LedgerChange(account, saved)


def expired_jobs(uow: UnitOfWork, releases: Sequence[Event]) -> list[Event]:
    """The jobs whose reservations these releases ended, ended expired in the same save."""
    events: list[Event] = []
    for released in releases:
        assert isinstance(released, ReservationReleased)
        job = uow.load(released.job_id, insights.evolve)
        if job is not None:
            events += insights_rules.expire(
                job, load_slot(uow, job.chat_id, job.category), released
            )
    return events


def _job_or_not_found(uow: UnitOfWork, job_id: UUID) -> InsightJob:
    job = uow.load(job_id, insights.evolve)
    if job is None:
        raise JobNotFound()
    return job
