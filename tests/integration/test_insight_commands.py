"""Insight commands over the real event store: duplicates and races record once, settle once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from relivchats.adapters.eventstore import EventStore
from relivchats.commands.chats import record_upload
from relivchats.commands.insight_outcomes import (
    expire_due,
    fail_pending,
    record_outcomes,
    start_generation,
)
from relivchats.commands.insights import OpenedJob, unlock
from relivchats.commands.unit_of_work import execute
from relivchats.domain import chats, insights, unlock_slots
from relivchats.domain.chats_rules import UploadSummary
from relivchats.domain.credits import ReservationCaptured, ReservationReleased, account_id_for
from relivchats.domain.insights import InsightFailed, InsightSucceeded, JobNotFound, JobSettled
from relivchats.domain.insights_rules import Failure, Success
from relivchats.domain.unlock_slots import UnlockSlot, slot_id_for
from tests.ledger_commands import open_account, purchase_coins

LATER = timedelta(minutes=20)


def slot_of(store: EventStore, chat_id: uuid.UUID, category: str) -> UnlockSlot:
    slot = unlock_slots.replay(store.load(slot_id_for(chat_id, category)))
    return slot or unlock_slots.empty_slot(chat_id, category)


def opened_job(store: EventStore, expiry: timedelta = LATER) -> OpenedJob:
    user_id, chat_id = uuid.uuid4(), uuid.uuid4()
    execute(store, open_account, user_id)
    execute(store, purchase_coins, user_id, uuid.uuid4(), 400)
    summary = UploadSummary(
        ("Asha", "Ben"), 10, datetime(2024, 1, 1), datetime(2024, 1, 2), uuid.uuid4()
    )
    execute(store, record_upload, chat_id, user_id, summary, None)
    return execute(store, unlock, user_id, chat_id, "friendship", None, expiry)


def success(kind: str) -> Success:
    return Success(kind, uuid.uuid4(), "relivchats-offline-1", 1, 2, 0, 3, 4, True, 1)


def settlements(store: EventStore, user_id: uuid.UUID) -> list[object]:
    events = store.load(account_id_for(user_id))
    return [e for e in events if isinstance(e, ReservationCaptured | ReservationReleased)]


async def test_two_deliveries_of_one_insight_racing_record_one_outcome(store):
    opened = opened_job(store)
    job = opened.job
    kind = job.insight_types[0]

    results = await asyncio.gather(
        *(
            asyncio.to_thread(execute, store, record_outcomes, job.id, [success(kind)])
            for _ in range(2)
        )
    )

    assert sorted(result.changed for result in results) == [False, True]
    events = store.load(job.id)
    assert sum(isinstance(e, InsightSucceeded) for e in events) == 1


async def test_outcomes_racing_for_the_last_insights_settle_the_job_once(store):
    job = opened_job(store).job

    await asyncio.gather(
        *(
            asyncio.to_thread(execute, store, record_outcomes, job.id, [success(kind)])
            for kind in job.insight_types
        )
    )

    events = store.load(job.id)
    assert [e.outcome for e in events if isinstance(e, JobSettled)] == ["captured"]
    assert [type(e) for e in settlements(store, job.user_id)] == [ReservationCaptured]
    assert slot_of(store, job.chat_id, "friendship").open_job is None


def test_a_chat_that_cannot_be_indexed_fails_the_job_and_releases_its_coins(store):
    job = opened_job(store).job

    failed = execute(
        store, fail_pending, job.id, "indexing_internal_error", 6, indexing_failed=True
    )

    assert failed.settled
    assert failed.job.settlement == "released"
    assert {e.insight_type for e in store.load(job.id) if isinstance(e, InsightFailed)} == set(
        job.insight_types
    )
    chat = chats.replay(store.load(job.chat_id))
    assert chat is not None
    assert chat.indexing_failure == "indexing_internal_error"
    assert [type(e) for e in settlements(store, job.user_id)] == [ReservationReleased]


def test_generation_is_requested_once_and_the_chat_is_indexed_in_the_same_save(store):
    job = opened_job(store).job
    excerpts = {kind: [[0, 5]] for kind in job.insight_types}

    first = execute(store, start_generation, job.id, 3, excerpts)
    again = execute(store, start_generation, job.id, 3, excerpts)

    assert first is not None
    assert again is None
    chat = chats.replay(store.load(job.chat_id))
    assert chat is not None
    assert chat.indexed_chunks == 3
    prepared = insights.replay(store.load(job.id))
    assert prepared is not None
    assert prepared.excerpts == dict.fromkeys(job.insight_types, ((0, 5),))


def test_expiry_releases_the_reservation_and_marks_the_job_in_one_save(store):
    job = opened_job(store, expiry=timedelta(seconds=-1)).job

    change = execute(store, expire_due, job.user_id, datetime.now(UTC))

    assert [type(e) for e in change.recorded] == [ReservationReleased]
    expired = insights.replay(store.load(job.id))
    assert expired is not None
    assert expired.expired
    assert slot_of(store, job.chat_id, "friendship").open_job is None
    assert execute(store, expire_due, job.user_id, datetime.now(UTC)).recorded == ()
    late = execute(store, record_outcomes, job.id, [success(kind) for kind in job.insight_types])
    assert late.changed
    assert not late.settled
    assert [type(e) for e in settlements(store, job.user_id)] == [ReservationReleased]
    assert slot_of(store, job.chat_id, "friendship").delivered == set(job.insight_types)


def test_an_outcome_for_an_unknown_job_is_not_found(store):
    with pytest.raises(JobNotFound):
        execute(store, record_outcomes, uuid.uuid4(), [Failure("friendship_vitality", "x", 1)])
