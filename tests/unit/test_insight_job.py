"""The insight job's rules, in memory: unlock, one outcome per type, settlement, expiry, retry."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from relivchats.domain import chats, chats_rules, credits, credits_rules, insights, unlock_slots
from relivchats.domain.catalogue import category
from relivchats.domain.chats import Chat
from relivchats.domain.chats_rules import UploadSummary
from relivchats.domain.credits import (
    CreditAccount,
    ReservationCaptured,
    ReservationReleased,
)
from relivchats.domain.errors import InsufficientFunds
from relivchats.domain.events import Event, fold
from relivchats.domain.insights import (
    AlreadyUnlocked,
    ChatSizeNotAllowed,
    GenerationRequested,
    IdempotencyKeyReused,
    IndexingRequired,
    InsightJob,
    JobAlreadyOpen,
    JobExpired,
    JobNotSettled,
    JobRequested,
    JobSettled,
)
from relivchats.domain.insights_rules import (
    Failure,
    JobRequest,
    Success,
    expire,
    open_job,
    record_outcomes,
    replayed_request,
    request_generation,
    retryable,
    share_of_cost,
)
from relivchats.domain.unlock_slots import SlotClosed, UnlockSlot

ROMANTIC = category("romantic")
TYPES = tuple(insight.slug for insight in ROMANTIC.insight_types)
LATER = datetime.now(UTC) + timedelta(minutes=20)


def a_chat(owner: uuid.UUID, participants: tuple[str, ...] = ("Asha", "Rahul")) -> Chat:
    summary = UploadSummary(
        participants, 100, datetime(2024, 1, 1), datetime(2024, 2, 1), uuid.uuid4()
    )
    state = fold(chats.evolve, chats_rules.upload(None, uuid.uuid4(), owner, summary, None))
    assert state is not None
    return state


def an_account(user_id: uuid.UUID, coins: int) -> CreditAccount:
    events = credits_rules.open_account(None, user_id, welcome_bonus=coins)
    account = fold(credits.evolve, events)
    assert account is not None
    return account


class World:
    """One user's chat, account and slot, evolved by whatever a decision appends."""

    def __init__(self, coins: int = 400, participants: tuple[str, ...] = ("Asha", "Rahul")):
        self.user_id = uuid.uuid4()
        self.chat = a_chat(self.user_id, participants)
        self.account: CreditAccount | None = an_account(self.user_id, coins)
        self.slot: UnlockSlot = unlock_slots.empty_slot(self.chat.id, "romantic")
        self.jobs: dict[uuid.UUID, InsightJob] = {}

    def apply(self, events: list[Event]) -> list[Event]:
        for event in events:
            if event.originator_id == self.slot.id:
                self.slot = unlock_slots.evolve(self.slot, event)
            elif self.account is not None and event.originator_id == self.account.id:
                self.account = credits.evolve(self.account, event)
            elif event.originator_id == self.chat.id:
                self.chat = chats.evolve(self.chat, event)
            else:
                self.jobs[event.originator_id] = insights.evolve(
                    self.jobs.get(event.originator_id), event
                )
        return events

    def unlock(self, retry_of: InsightJob | None = None) -> InsightJob:
        job_id = uuid.uuid4()
        request = JobRequest(job_id, self.user_id, ROMANTIC, LATER, retry_of)
        self.apply(open_job(request, self.chat, self.slot, self.account))
        return self.jobs[job_id]

    def outcome(self, job: InsightJob, *outcomes: Success | Failure) -> list[Event]:
        return self.apply(record_outcomes(self.jobs[job.id], outcomes, self.slot, self.account))


def success(kind: str) -> Success:
    return Success(kind, uuid.uuid4(), "relivchats-offline-1", 10, 20, 0, 5, 3, True, 1)


def failure(kind: str) -> Failure:
    return Failure(kind, "provider_unavailable", 3)


def test_unlock_reserves_the_category_cost_and_asks_for_indexing_first():
    world = World()
    job = world.unlock()

    assert job.insight_types == TYPES
    assert job.indexing_required
    assert world.slot.open_job == job.id
    assert world.account is not None
    assert world.account.available == 0
    assert world.account.open_reservations[job.reservation_id].amount == 400


def test_an_indexed_chat_goes_straight_to_generation():
    world = World()
    world.chat = (
        fold(chats.evolve, chats_rules.record_indexed(world.chat, 7), world.chat) or world.chat
    )
    request = JobRequest(uuid.uuid4(), world.user_id, ROMANTIC, LATER)
    events = open_job(request, world.chat, world.slot, world.account)
    assert not any(isinstance(event, IndexingRequired) for event in events)
    assert sum(isinstance(event, JobRequested) for event in events) == 1


def test_a_second_unlock_while_a_job_is_open_names_the_open_job():
    world = World(coins=2000)
    job = world.unlock()
    with pytest.raises(JobAlreadyOpen) as refused:
        world.unlock()
    assert refused.value.details["job_id"] == str(job.id)


def test_a_group_chat_cannot_unlock_romantic_insights():
    world = World(participants=("Asha", "Rahul", "Meera"))
    with pytest.raises(ChatSizeNotAllowed):
        world.unlock()


def test_someone_elses_chat_is_not_found_before_any_coin_is_touched():
    world = World()
    stranger = JobRequest(uuid.uuid4(), uuid.uuid4(), ROMANTIC, LATER)
    with pytest.raises(chats.ChatNotFound):
        open_job(stranger, world.chat, world.slot, world.account)


def test_too_few_coins_refuses_with_the_deficit():
    world = World(coins=150)
    with pytest.raises(InsufficientFunds) as refused:
        world.unlock()
    assert refused.value.details == {
        "required": 400,
        "available": 150,
        "deficit": 250,
        "flagged": False,
    }


def test_all_insights_succeeding_captures_the_reservation_with_the_last_outcome():
    world = World()
    job = world.unlock()
    for kind in TYPES[:-1]:
        assert not any(isinstance(e, JobSettled) for e in world.outcome(job, success(kind)))

    last = world.outcome(job, success(TYPES[-1]))

    kinds = [type(event) for event in last]
    assert kinds[1:] == [JobSettled, ReservationCaptured, SlotClosed]
    assert world.jobs[job.id].settlement == "captured"
    assert world.slot.open_job is None
    assert world.slot.delivered == set(TYPES)
    assert world.account is not None
    assert (world.account.balance, world.account.held) == (0, 0)


def test_a_second_outcome_for_the_same_type_changes_nothing():
    world = World()
    job = world.unlock()
    world.outcome(job, success(TYPES[0]))
    assert world.outcome(job, failure(TYPES[0])) == []
    assert world.jobs[job.id].outcomes[TYPES[0]].succeeded


def test_any_failure_releases_the_whole_reservation_and_keeps_the_successes():
    world = World()
    job = world.unlock()
    world.outcome(job, *(success(kind) for kind in TYPES[1:]))

    last = world.outcome(job, failure(TYPES[0]))

    assert [type(event) for event in last][1:] == [JobSettled, ReservationReleased, SlotClosed]
    assert world.jobs[job.id].settlement == "released"
    assert world.account is not None
    assert (world.account.balance, world.account.available) == (400, 400)
    assert world.slot.delivered == set(TYPES[1:])


def test_retry_regenerates_only_the_failed_types_for_their_share_of_the_cost():
    world = World()
    job = world.unlock()
    world.outcome(job, *(success(kind) for kind in TYPES[2:]), failure(TYPES[0]), failure(TYPES[1]))

    retry = world.unlock(retry_of=retryable(world.jobs[job.id], world.user_id))

    assert retry.insight_types == TYPES[:2]
    assert retry.cost == share_of_cost(400, 2, 6) == 134
    assert retry.retry_of == job.id


def test_a_running_job_cannot_be_retried():
    world = World()
    job = world.unlock()
    with pytest.raises(JobNotSettled):
        retryable(world.jobs[job.id], world.user_id)


def test_a_fully_delivered_category_is_already_unlocked():
    world = World(coins=1000)
    job = world.unlock()
    world.outcome(job, *(success(kind) for kind in TYPES))
    with pytest.raises(AlreadyUnlocked):
        world.unlock()


def test_expiry_marks_the_job_expired_and_late_results_are_kept_but_never_charged():
    world = World()
    job = world.unlock()
    world.outcome(job, success(TYPES[0]))
    assert world.account is not None
    released = world.apply(credits_rules.expire_due(world.account, LATER + timedelta(seconds=1)))
    assert isinstance(released[0], ReservationReleased)

    expired = world.apply(expire(world.jobs[job.id], world.slot, released[0]))

    assert [type(event) for event in expired] == [JobExpired, SlotClosed]
    late = world.outcome(job, *(success(kind) for kind in TYPES[1:]))
    assert not any(isinstance(e, JobSettled | ReservationCaptured) for e in late)
    assert world.slot.delivered == set(TYPES)
    assert world.account.balance == 400


def test_settling_after_the_sweeper_released_the_reservation_expires_instead():
    world = World()
    job = world.unlock()
    assert world.account is not None
    world.apply(credits_rules.release(world.account, job.reservation_id, "expired"))

    last = world.outcome(job, *(success(kind) for kind in TYPES))

    assert not any(isinstance(event, JobSettled) for event in last)
    assert any(isinstance(event, JobExpired) for event in last)


def test_generation_is_requested_once_with_the_chats_index():
    world = World()
    job = world.unlock()
    excerpts = {kind: [[0, 10]] for kind in TYPES}

    first = world.apply(request_generation(world.jobs[job.id], world.chat, 3, excerpts))

    assert world.chat.indexed_chunks == 3
    assert len(first) == 2
    assert request_generation(world.jobs[job.id], world.chat, 3, excerpts) == []


def test_the_same_idempotency_key_for_another_chat_is_refused():
    world = World()
    job = world.unlock()
    assert replayed_request(job, world.user_id, job.chat_id, "romantic") is job
    with pytest.raises(IdempotencyKeyReused):
        replayed_request(job, world.user_id, uuid.uuid4(), "romantic")


def test_reservations_name_their_job():
    world = World()
    job = world.unlock()
    assert world.account is not None
    reserved = world.account.open_reservations[job.reservation_id]
    assert (reserved.job_id, reserved.amount) == (job.id, job.cost)


def test_a_job_status_follows_it_from_unlock_to_its_settlement():
    world = World()
    indexing = world.unlock()
    world.chat = (
        fold(chats.evolve, chats_rules.record_indexed(world.chat, 7), world.chat) or world.chat
    )
    world.outcome(indexing, *(failure(kind) for kind in TYPES))
    queued = world.unlock()
    excerpts = {kind: [[0, 3]] for kind in TYPES}
    world.apply(request_generation(queued, world.chat, 7, excerpts))
    generating = world.jobs[queued.id]
    world.outcome(generating, *(success(kind) for kind in TYPES))

    assert indexing.status == "indexing"
    assert world.jobs[indexing.id].status == "released"
    assert queued.status == "queued"
    assert generating.status == "generating"
    assert world.jobs[queued.id].status == "captured"


def test_an_expired_job_stays_expired_when_its_generation_is_requested_late():
    world = World()
    job = world.unlock()
    assert world.account is not None
    released = world.apply(credits_rules.expire_due(world.account, LATER + timedelta(seconds=1)))
    world.apply(expire(world.jobs[job.id], world.slot, released[0]))
    excerpts = {kind: [[0, 3]] for kind in TYPES}

    late = world.apply(request_generation(world.jobs[job.id], world.chat, 7, excerpts))

    assert any(isinstance(event, GenerationRequested) for event in late)
    assert world.jobs[job.id].status == "expired"


def test_each_insight_type_of_a_job_is_pending_until_its_outcome():
    world = World()
    job = world.unlock()
    world.outcome(job, success(TYPES[0]), failure(TYPES[1]))
    outcomes = world.jobs[job.id].outcomes

    statuses = [insights.insight_status(outcomes.get(kind)) for kind in TYPES[:3]]

    assert statuses == ["succeeded", "failed", "pending"]
