"""Insight commands on the in-memory store: unlock, retry, generation, outcomes, expiry.

Each command's outcomes, its true duplicate (appends nothing, answers the first outcome) and
its conflicts; races between processes are in tests/integration/test_insight_commands.py.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from relivchats.commands.insight_outcomes import (
    expire_due,
    fail_pending,
    record_outcomes,
    start_generation,
)
from relivchats.commands.insights import retry, unlock
from relivchats.commands.unit_of_work import execute
from relivchats.domain import chats, credits, insights, unlock_slots
from relivchats.domain.chats import ChatNotFound
from relivchats.domain.credits import ReservationCaptured, ReservationReleased
from relivchats.domain.errors import InsufficientFunds, NotFound
from relivchats.domain.insights import (
    IdempotencyKeyReused,
    JobAlreadyOpen,
    JobExpired,
    JobNotFound,
    JobSettled,
)
from relivchats.domain.insights_rules import Failure, Success
from relivchats.domain.unlock_slots import UnlockSlot, slot_id_for
from tests.unit.command_world import EXPIRY, World
from tests.unit.process_views import Process


def success(kind: str) -> Success:
    return Success(kind, uuid.uuid4(), "relivchats-offline-1", 1, 2, 0, 3, 4, True, 1)


def slot_of(world: World, category: str = "friendship") -> UnlockSlot:
    slot_id = slot_id_for(world.chat_id, category)
    slot = unlock_slots.replay(world.store.load(slot_id))
    return slot or unlock_slots.empty_slot(world.chat_id, category)


def settlements(world: World) -> list[object]:
    events = world.store.load(credits.account_id_for(world.user_id))
    return [type(e) for e in events if isinstance(e, ReservationCaptured | ReservationReleased)]


def test_unlock_saves_the_slot_the_job_and_the_reservation_in_one_append():
    world = World.with_coins()
    appends = world.store.appends

    opened = world.unlock()

    assert world.store.appends == appends + 1
    assert opened.changed
    assert opened.available == world.available() == 450 - opened.job.cost
    assert slot_of(world).open_job == opened.job.id


def test_a_repeated_unlock_with_its_key_answers_the_first_job():
    world = World.with_coins()
    first = world.unlock(key="k")
    head = world.store.head()

    again = world.unlock(key="k")

    assert (again.changed, again.job, again.available) == (False, first.job, first.available)
    assert world.store.head() == again.position == head


def test_the_key_reused_for_another_category_conflicts():
    world = World.with_coins()
    world.unlock(key="k")
    with pytest.raises(IdempotencyKeyReused):
        world.unlock("romantic", key="k")


def test_a_second_unlock_while_the_first_runs_is_told_which_job_holds_the_slot():
    world = World.with_coins()
    first = world.unlock()
    with pytest.raises(JobAlreadyOpen) as refused:
        world.unlock()
    assert refused.value.details["job_id"] == str(first.job.id)


def test_unlock_without_enough_coins_is_refused_and_saves_nothing():
    world = World.with_coins(coins=0)
    head = world.store.head()
    with pytest.raises(InsufficientFunds):
        world.unlock()
    assert world.store.head() == head


def test_unlock_of_someone_elses_chat_is_not_found():
    world = World.with_coins()
    stranger = World.with_coins(store=world.store)
    with pytest.raises(ChatNotFound):
        execute(world.store, unlock, world.user_id, stranger.chat_id, "friendship", None, EXPIRY)


def test_outcomes_are_recorded_once_and_the_last_one_settles_the_job():
    world = World.with_coins()
    job = world.unlock().job
    first, *rest = job.insight_types

    recorded = execute(world.store, record_outcomes, job.id, [success(first)])
    repeated = execute(world.store, record_outcomes, job.id, [success(first)])
    last = execute(world.store, record_outcomes, job.id, [success(kind) for kind in rest])

    assert (recorded.changed, recorded.settled) == (True, False)
    assert (repeated.changed, repeated.position) == (False, recorded.position)
    assert (last.changed, last.settled, last.job.settlement) == (True, True, "captured")
    assert settlements(world) == [ReservationCaptured]
    assert world.available() == 450 - job.cost


def test_failing_what_is_pending_releases_the_coins_and_marks_the_chat():
    world = World.with_coins()
    job = world.unlock().job

    failed = execute(world.store, fail_pending, job.id, "indexing_x", 6, indexing_failed=True)
    again = execute(world.store, fail_pending, job.id, "indexing_x", 7, indexing_failed=True)

    assert (failed.settled, failed.job.settlement) == (True, "released")
    assert again.changed is False
    assert settlements(world) == [ReservationReleased]
    assert world.available() == 450
    chat = chats.replay(world.store.load(world.chat_id))
    assert chat is not None and chat.indexing_failure == "indexing_x"


def test_an_outcome_for_an_unknown_job_is_not_found():
    world = World.with_coins()
    with pytest.raises(JobNotFound):
        execute(world.store, record_outcomes, uuid.uuid4(), [Failure("x", "y", 1)])


def test_generation_is_requested_once():
    world = World.with_coins()
    job = world.unlock().job
    excerpts = {kind: [[0, 3]] for kind in job.insight_types}

    first = execute(world.store, start_generation, job.id, 3, excerpts)
    again = execute(world.store, start_generation, job.id, 3, excerpts)

    assert first == world.store.head()
    assert again is None
    prepared = insights.replay(world.store.load(job.id))
    assert prepared is not None and prepared.generation_requested


def test_expiry_releases_the_reservation_and_expires_the_job_in_one_save():
    world = World.with_coins()
    job = execute(
        world.store, unlock, world.user_id, world.chat_id, "friendship", None, timedelta(minutes=-1)
    ).job
    appends = world.store.appends

    swept = execute(world.store, expire_due, world.user_id, datetime.now(UTC))
    again = execute(world.store, expire_due, world.user_id, datetime.now(UTC))

    assert world.store.appends == appends + 1
    assert [type(e) for e in swept.recorded] == [ReservationReleased]
    assert not again.changed
    expired = world.store.load(job.id)
    assert isinstance(expired[-1], JobExpired)
    assert slot_of(world).open_job is None


def test_a_failed_job_is_retried_once_for_what_it_did_not_deliver():
    world = World.with_coins()
    job = world.unlock().job
    first, *rest = job.insight_types
    outcomes = [success(first), *(Failure(kind, "provider_refused", 1) for kind in rest)]
    execute(world.store, record_outcomes, job.id, outcomes)

    retried = execute(world.store, retry, world.user_id, job.id, EXPIRY)
    again = execute(world.store, retry, world.user_id, job.id, EXPIRY)

    assert retried.changed and retried.job.insight_types == tuple(rest)
    assert (again.changed, again.job) == (False, retried.job)


def test_a_job_of_another_user_cannot_be_retried():
    world = World.with_coins()
    job = world.unlock().job
    execute(world.store, fail_pending, job.id, "x", 1, indexing_failed=False)
    with pytest.raises(NotFound):
        execute(world.store, retry, uuid.uuid4(), job.id, EXPIRY)


def test_a_settled_job_is_settled_once_even_when_its_outcomes_race():
    """The second of two saves that both decided to settle loses at the job's version."""
    world = World.with_coins()
    job = world.unlock().job
    racing = world.store
    lost: list[int] = []
    original_append = racing.append

    def append_after_the_other(*events):
        if not lost and any(isinstance(e, JobSettled) for e in events):
            lost.append(1)
            elsewhere = Process(racing)  # another process: its own cache and locks
            execute(elsewhere, record_outcomes, job.id, [success(k) for k in job.insight_types])
        return original_append(*events)

    racing.append = append_after_the_other  # type: ignore[method-assign]
    outcome = execute(racing, record_outcomes, job.id, [success(k) for k in job.insight_types])

    assert lost == [1]
    assert outcome.changed is False  # decided again: the other save had settled it
    events = world.store.load(job.id)
    assert [e.outcome for e in events if isinstance(e, JobSettled)] == ["captured"]
