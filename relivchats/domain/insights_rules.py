"""What insight commands decide: pure functions from states to the events of one append.

- Opening a job (unlock or retry): the slot's `SlotOpened`, `JobRequested`, `IndexingRequired`
  when the chat has no index yet, and the credit account's `CoinsReserved`. Everything the user
  must be told "no" about (not their chat, wrong chat size, a job already open, nothing left to
  unlock, too few coins) is checked before any of it is decided.
- Recording outcomes: one per (job, insight type); a repeat is a no-op. The outcome that leaves
  nothing pending also settles the job, from the job's events alone: every insight succeeded ->
  capture the reservation, any failed -> release it; plus the slot's `SlotClosed`.
- Expiry: the sweeper's release of an expired reservation marks its job expired.

Coins are proportional: n of a category's N insight types cost ceil(cost x n / N), so a retry
(or an unlock of a partly delivered category) never charges twice for an insight.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from uuid import UUID

from relivchats.domain import chats_rules, credits_rules, insights
from relivchats.domain.catalogue import Category
from relivchats.domain.chats import Chat
from relivchats.domain.credits import CreditAccount, ReservationReleased
from relivchats.domain.errors import InvalidCommand
from relivchats.domain.events import Event, next_event_fields
from relivchats.domain.insights import (
    AlreadyUnlocked,
    ChatSizeNotAllowed,
    GenerationRequested,
    IdempotencyKeyReused,
    IndexingRequired,
    InsightFailed,
    InsightJob,
    InsightSucceeded,
    JobAlreadyOpen,
    JobExpired,
    JobNotFound,
    JobNotSettled,
    JobRequested,
    JobSettled,
    reservation_id_for,
)
from relivchats.domain.unlock_slots import InsightDeliveredLate, SlotClosed, SlotOpened, UnlockSlot


def share_of_cost(cost: int, types: int, total: int) -> int:
    """The coins for `types` of a category's `total` insight types, rounded up."""
    return -(-cost * types // total)


@dataclass(frozen=True)
class JobRequest:
    job_id: UUID
    user_id: UUID
    category: Category
    expires_at: datetime
    retry_of: InsightJob | None = None


def replayed_request(
    existing: InsightJob | None, user_id: UUID, chat_id: UUID, category: str
) -> InsightJob | None:
    """The job an Idempotency-Key already names, if the same unlock is asked again (else 409)."""
    if existing is None:
        return None
    if existing.user_id != user_id:  # cannot happen with keyed ids; never leak another's job
        raise JobNotFound()
    if (existing.chat_id, existing.category) != (chat_id, category):
        raise IdempotencyKeyReused(
            "this Idempotency-Key was already used for another unlock", job_id=str(existing.id)
        )
    return existing


def retryable(job: InsightJob | None, user_id: UUID) -> InsightJob:
    if job is None or job.user_id != user_id:
        raise JobNotFound()
    if not job.closed:
        raise JobNotSettled(
            "this job is still running; retry it once it has settled", job_id=str(job.id)
        )
    return job


def open_job(
    request: JobRequest, chat: Chat | None, slot: UnlockSlot, account: CreditAccount | None
) -> list[Event]:
    owned = chats_rules.owned(chat, request.user_id)
    category = request.category
    if not category.fits(len(owned.participants)):
        raise ChatSizeNotAllowed(
            f"{category.display_name} insights need a chat with {category.chat_size.rule}",
            participants=len(owned.participants),
            chat_size=category.chat_size.value,
        )
    if slot.open_job is not None:
        raise JobAlreadyOpen(
            "an insight job for this chat and category is still running",
            job_id=str(slot.open_job),
        )
    missing = _missing_types(request, slot)
    cost = share_of_cost(category.cost_coins, len(missing), len(category.insight_types))
    reservation_id = reservation_id_for(request.job_id)
    reserved = credits_rules.reserve(
        account, reservation_id, cost, request.expires_at, request.job_id
    )
    assert reserved, "a new job's reservation id cannot have been used"
    events: list[Event] = [
        SlotOpened(**next_event_fields(slot.id, slot.version), job_id=request.job_id),
        JobRequested(
            **next_event_fields(request.job_id, 0),
            user_id=request.user_id,
            chat_id=owned.id,
            category=category.slug,
            insight_types=missing,
            reservation_id=reservation_id,
            cost=cost,
            expires_at=request.expires_at,
            retry_of=request.retry_of.id if request.retry_of else None,
        ),
    ]
    if owned.indexed_chunks is None:
        events.append(IndexingRequired(**next_event_fields(request.job_id, 1), chat_id=owned.id))
    return [*events, *reserved]


def _missing_types(request: JobRequest, slot: UnlockSlot) -> tuple[str, ...]:
    """The insight types this job will write: those of the category (or of the retried job)
    that the chat does not have yet."""
    wanted = (
        request.retry_of.insight_types
        if request.retry_of is not None
        else tuple(insight.slug for insight in request.category.insight_types)
    )
    missing = tuple(kind for kind in wanted if kind not in slot.delivered)
    if not missing:
        raise AlreadyUnlocked(
            "every insight of this category already exists for this chat",
            category=request.category.slug,
        )
    return missing


def request_generation(
    job: InsightJob | None,
    chat: Chat | None,
    chunks: int,
    excerpts: dict[str, list[list[int]]],
) -> list[Event]:
    """Record the chat's index (if new) and the chosen excerpts; generation starts from here."""
    if job is None:
        raise JobNotFound()
    if job.generation_requested or job.settlement is not None:
        return []
    if set(excerpts) != set(job.insight_types):
        raise InvalidCommand("excerpts must be chosen for every insight type of the job")
    generation = GenerationRequested(
        **next_event_fields(job.id, job.version), chunks=chunks, excerpts=excerpts
    )
    return [*chats_rules.record_indexed(chat, chunks), generation]


@dataclass(frozen=True)
class Success:
    insight_type: str
    content_id: UUID
    model: str
    prompt_tokens: int
    output_tokens: int
    thinking_tokens: int
    latency_ms: int
    excerpts_used: int
    offline: bool
    attempts: int

    def event(self, job: InsightJob) -> InsightSucceeded:
        return InsightSucceeded(**next_event_fields(job.id, job.version), **asdict(self))


@dataclass(frozen=True)
class Failure:
    insight_type: str
    error: str  # an error code
    attempts: int

    def event(self, job: InsightJob) -> InsightFailed:
        return InsightFailed(**next_event_fields(job.id, job.version), **asdict(self))


def record_outcomes(
    job: InsightJob | None,
    outcomes: Sequence[Success | Failure],
    slot: UnlockSlot,
    account: CreditAccount | None,
) -> list[Event]:
    """Outcomes not recorded yet; with the last pending one, the settlement in the same list."""
    if job is None:
        raise JobNotFound()
    state, recorded = job, list[Event]()
    for outcome in outcomes:
        if outcome.insight_type not in job.insight_types:
            raise InvalidCommand(
                "not an insight type of this job", insight_type=outcome.insight_type
            )
        if outcome.insight_type in state.outcomes:
            continue  # one outcome per (job, type): a repeat changes nothing
        event = outcome.event(state)
        state = insights.evolve(state, event)
        recorded.append(event)
    if not recorded:
        return []
    if job.closed:
        return [*recorded, *_delivered_late(state, recorded, slot)]
    if state.pending_types:
        return recorded
    return [*recorded, *_settle(state, slot, account)]


def _delivered_late(
    job: InsightJob, recorded: list[Event], slot: UnlockSlot
) -> list[InsightDeliveredLate]:
    """Results of an expired job are kept (and free); the slot counts them as delivered."""
    late = [e.insight_type for e in recorded if isinstance(e, InsightSucceeded)]
    return [
        InsightDeliveredLate(
            **next_event_fields(slot.id, slot.version + offset), job_id=job.id, insight_type=kind
        )
        for offset, kind in enumerate(late)
    ]


def _settle(job: InsightJob, slot: UnlockSlot, account: CreditAccount | None) -> list[Event]:
    reservation = account.open_reservations.get(job.reservation_id) if account else None
    if account is None or reservation is None:
        # The sweeper released it first: the job ends expired and is never charged.
        expired = JobExpired(
            **next_event_fields(job.id, job.version), reservation_id=job.reservation_id
        )
        return [expired, *_close_slot(job, slot)]
    captured = not job.failed_types
    credit = (
        credits_rules.capture(account, job.reservation_id)
        if captured
        else credits_rules.release(account, job.reservation_id, "failed")
    )
    settled = JobSettled(
        **next_event_fields(job.id, job.version),
        outcome="captured" if captured else "released",
        reservation_id=job.reservation_id,
        amount=reservation.amount,
    )
    return [settled, *credit, *_close_slot(job, slot)]


def _close_slot(job: InsightJob, slot: UnlockSlot) -> list[Event]:
    if slot.open_job != job.id:
        return []
    fields = next_event_fields(slot.id, slot.version)
    return [SlotClosed(**fields, job_id=job.id, delivered=job.succeeded_types)]


def expire(job: InsightJob | None, slot: UnlockSlot, released: ReservationReleased) -> list[Event]:
    """The sweeper released the job's expired reservation: the job ends expired, in that save."""
    if job is None or job.closed or job.reservation_id != released.reservation_id:
        return []
    fields = next_event_fields(job.id, job.version)
    return [JobExpired(**fields, reservation_id=job.reservation_id), *_close_slot(job, slot)]
