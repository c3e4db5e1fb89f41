"""Insight jobs and unlock slots: their events, their state and its fold.

`InsightJob` (uuid4, or uuid5 of the user and an `Idempotency-Key`) is one paid request: a chat,
a category, the insight types to write and the reservation that pays for them. It records one
outcome per insight type and, exactly once, how it ended: settled (the reservation captured or
released) or expired (the sweeper released the reservation first). Results that arrive after
expiry are still recorded, so the user can read them, but nothing charges for them.

Each job is opened through the `UnlockSlot` of its (chat, category) (unlock_slots.py), which
holds the open job, so two racing unlocks make one job.

Events hold ids, counts and error codes only. The text of an insight is chat content: it lives
sealed in a content table under the `content_id` its `InsightSucceeded` names.
The decisions (which events a command produces) live in `insights_rules.py`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal
from uuid import UUID

from relivchats.domain.errors import Conflict, DomainError, NotFound
from relivchats.domain.events import Event, deterministic_id, fold

Settlement = Literal["captured", "released"]
# Message ranges [first, end) of the chunks retrieved for one insight type, best match first.
ExcerptRanges = tuple[tuple[int, int], ...]


def job_id_for(user_id: UUID, idempotency_key: str) -> UUID:
    return deterministic_id("insight-job", user_id, idempotency_key)


def retry_job_id_for(job_id: UUID) -> UUID:
    """A job is retried at most once: retrying it again names the same retry job."""
    return deterministic_id("insight-job-retry", job_id)


def reservation_id_for(job_id: UUID) -> UUID:
    return deterministic_id("insight-reservation", job_id)


# --- errors ---------------------------------------------------------------------------------


class JobNotFound(NotFound):
    code = "job_not_found"

    def __init__(self) -> None:
        super().__init__("no such insight job")


class ChatSizeNotAllowed(DomainError):
    """The chat has the wrong number of participants for the category."""

    code = "chat_size_not_allowed"


class JobAlreadyOpen(Conflict):
    code = "job_already_open"


class AlreadyUnlocked(Conflict):
    code = "already_unlocked"


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"


class JobNotSettled(Conflict):
    code = "job_not_settled"


# --- job events -------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobRequested(Event):
    TOPIC = "insights.JobRequested.v1"
    user_id: UUID
    chat_id: UUID
    category: str
    insight_types: tuple[str, ...]
    reservation_id: UUID
    cost: int
    expires_at: datetime
    retry_of: UUID | None


@dataclass(frozen=True)
class IndexingRequired(Event):
    """The chat has no vector index yet: the job pays for (and waits on) indexing it first."""

    TOPIC = "insights.IndexingRequired.v1"
    chat_id: UUID


@dataclass(frozen=True)
class GenerationRequested(Event):
    """The chat is indexed and each insight type's excerpts are chosen: generation may start.

    `excerpts` maps each insight type to the message ranges of its best chunks (positions, no
    text), so generation needs no vector store: only the local store's single owner searches.
    """

    TOPIC = "insights.GenerationRequested.v1"
    chunks: int
    excerpts: dict[str, list[list[int]]]


@dataclass(frozen=True)
class InsightSucceeded(Event):
    TOPIC = "insights.InsightSucceeded.v1"
    insight_type: str
    content_id: UUID  # the sealed insight in `insight_contents`
    model: str
    prompt_tokens: int
    output_tokens: int
    thinking_tokens: int
    latency_ms: int
    excerpts_used: int
    offline: bool
    attempts: int


@dataclass(frozen=True)
class InsightFailed(Event):
    TOPIC = "insights.InsightFailed.v1"
    insight_type: str
    error: str  # an error code, never chat content
    attempts: int


@dataclass(frozen=True)
class JobSettled(Event):
    TOPIC = "insights.JobSettled.v1"
    outcome: Settlement
    reservation_id: UUID
    amount: int


@dataclass(frozen=True)
class JobExpired(Event):
    """The reservation expired before the job settled; it was released, and nothing is charged."""

    TOPIC = "insights.JobExpired.v1"
    reservation_id: UUID


InsightStatus = Literal["pending", "succeeded", "failed"]


@dataclass(frozen=True)
class InsightOutcome:
    succeeded: bool
    content_id: UUID | None
    error: str | None


def outcome_of(event: InsightSucceeded | InsightFailed) -> InsightOutcome:
    if isinstance(event, InsightSucceeded):
        return InsightOutcome(True, event.content_id, None)
    return InsightOutcome(False, None, event.error)


def insight_status(outcome: InsightOutcome | None) -> InsightStatus:
    """One insight type of a job, as the API and the `insight_results` read model name it."""
    if outcome is None:
        return "pending"
    return "succeeded" if outcome.succeeded else "failed"


JobStatus = Literal["queued", "indexing", "generating", "captured", "released", "expired"]
# A job's status only moves forward through these stages; the closing ones end it.
_STAGE: Mapping[JobStatus, int] = {
    "queued": 0,
    "indexing": 1,
    "generating": 2,
    "captured": 3,
    "released": 3,
    "expired": 3,
}


def job_status_named_by(event: Event) -> JobStatus | None:
    """The status a job's event moves it to (None: the event leaves the status alone)."""
    match event:
        case JobRequested():
            return "queued"
        case IndexingRequired():
            return "indexing"
        case GenerationRequested():
            return "generating"
        case JobSettled(outcome=outcome):
            return outcome
        case JobExpired():
            return "expired"
    return None


def statuses_before(status: JobStatus) -> tuple[JobStatus, ...]:
    """The statuses a job moves to `status` from: the earlier stages (a closed job stays closed,
    so results of an expired job, and its late generation request, leave it expired)."""
    return tuple(earlier for earlier, stage in _STAGE.items() if stage < _STAGE[status])


def next_status(current: JobStatus | None, event: Event) -> JobStatus:
    """Where the job stands after `event`, as the API and the `insight_jobs` read model name it:
    `evolve` folds it, and projections/insights.py applies the same moves in SQL."""
    named = job_status_named_by(event)
    if named is not None and (current is None or current in statuses_before(named)):
        return named
    assert current is not None, f"{type(event).__name__} cannot start a job"
    return current


@dataclass(frozen=True)
class InsightJob:
    id: UUID
    version: int
    user_id: UUID
    chat_id: UUID
    category: str
    insight_types: tuple[str, ...]
    reservation_id: UUID
    cost: int
    expires_at: datetime
    retry_of: UUID | None
    requested_at: datetime
    status: JobStatus  # next_status, folded
    indexing_required: bool = False
    excerpts: Mapping[str, ExcerptRanges] | None = None  # set once generation is requested
    outcomes: Mapping[str, InsightOutcome] = field(default_factory=dict)
    settlement: Settlement | None = None
    expired: bool = False

    @property
    def closed(self) -> bool:
        """Settled or expired: its reservation is resolved, and no outcome charges anything."""
        return self.settlement is not None or self.expired

    @property
    def generation_requested(self) -> bool:
        return self.excerpts is not None

    @property
    def pending_types(self) -> tuple[str, ...]:
        return tuple(t for t in self.insight_types if t not in self.outcomes)

    @property
    def succeeded_types(self) -> tuple[str, ...]:
        return self._types_with("succeeded")

    @property
    def failed_types(self) -> tuple[str, ...]:
        return self._types_with("failed")

    def _types_with(self, status: InsightStatus) -> tuple[str, ...]:
        return tuple(
            t for t in self.insight_types if insight_status(self.outcomes.get(t)) == status
        )


def evolve(state: InsightJob | None, event: Event) -> InsightJob:
    if isinstance(event, JobRequested):
        return InsightJob(
            id=event.originator_id,
            version=event.originator_version,
            user_id=event.user_id,
            chat_id=event.chat_id,
            category=event.category,
            insight_types=tuple(event.insight_types),
            reservation_id=event.reservation_id,
            cost=event.cost,
            expires_at=event.expires_at,
            retry_of=event.retry_of,
            requested_at=event.timestamp,
            status=next_status(None, event),
        )
    assert state is not None, f"{type(event).__name__} before JobRequested"
    state = replace(
        state, version=event.originator_version, status=next_status(state.status, event)
    )
    match event:
        case IndexingRequired():
            return replace(state, indexing_required=True)
        case GenerationRequested(excerpts=excerpts):
            ranges = {kind: tuple((a, b) for a, b in found) for kind, found in excerpts.items()}
            return replace(state, excerpts=ranges)
        case InsightSucceeded() | InsightFailed():
            outcomes = {**state.outcomes, event.insight_type: outcome_of(event)}
            return replace(state, outcomes=outcomes)
        case JobSettled(outcome=outcome):
            return replace(state, settlement=outcome)
        case JobExpired():
            return replace(state, expired=True)
    return state


def replay(events: Iterable[Event]) -> InsightJob | None:
    return fold(evolve, events)
