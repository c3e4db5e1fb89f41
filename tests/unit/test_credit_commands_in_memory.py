"""Credit commands on the in-memory store: repeats answer the first outcome, keys reused with
other terms conflict, reservations resolve once, refusals say why. Two processes' caches on
PostgreSQL are in tests/integration/test_credit_commands.py."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from relivchats.adapters.memory_eventstore import InMemoryEventStore
from relivchats.commands.unit_of_work import execute
from relivchats.commands.users import register_user
from relivchats.domain.credits import account_id_for
from relivchats.domain.errors import (
    Conflict,
    InsufficientFunds,
    ReservationAlreadyResolved,
    UnknownReservation,
)
from relivchats.domain.events import next_event_fields
from relivchats.domain.users import UserDeletionRequested, user_id_for
from tests.ledger_commands import (
    capture_reservation,
    open_account,
    release_reservation,
    reserve_coins,
)

LATER = datetime.now(UTC) + timedelta(minutes=20)


@pytest.fixture
def store() -> InMemoryEventStore:
    return InMemoryEventStore()


@pytest.fixture
def user_id(store: InMemoryEventStore) -> uuid.UUID:
    fresh = uuid.uuid4()
    execute(store, open_account, fresh)
    return fresh


def test_a_repeated_reservation_answers_the_first_one(store, user_id):
    reservation_id, job_id = uuid.uuid4(), uuid.uuid4()
    first = execute(store, reserve_coins, user_id, reservation_id, 30, job_id, LATER)
    again = execute(store, reserve_coins, user_id, reservation_id, 30, job_id, LATER + timedelta(1))

    assert first.changed and not again.changed
    assert again.reservation == first.reservation  # the first expiry, not the retried one
    assert again.available == first.available == 20


def test_a_reservation_id_reused_with_other_terms_conflicts(store, user_id):
    reservation_id = uuid.uuid4()
    execute(store, reserve_coins, user_id, reservation_id, 30, uuid.uuid4(), LATER)
    with pytest.raises(Conflict):
        execute(store, reserve_coins, user_id, reservation_id, 31, uuid.uuid4(), LATER)


def test_a_reservation_resolves_once(store, user_id):
    held = execute(store, reserve_coins, user_id, uuid.uuid4(), 30, uuid.uuid4(), LATER)
    execute(store, release_reservation, user_id, held.reservation_id, "failed")

    repeat = execute(store, release_reservation, user_id, held.reservation_id, "failed")
    with pytest.raises(ReservationAlreadyResolved):
        execute(store, capture_reservation, user_id, held.reservation_id)
    with pytest.raises(UnknownReservation):
        execute(store, capture_reservation, user_id, uuid.uuid4())
    assert (repeat.changed, repeat.outcome, repeat.available) == (False, "released", 50)


def test_insufficient_funds_reports_required_available_and_deficit(store, user_id):
    with pytest.raises(InsufficientFunds) as refused:
        execute(store, reserve_coins, user_id, uuid.uuid4(), 400, uuid.uuid4(), LATER)
    assert refused.value.details | {"flagged": False} == {
        "required": 400,
        "available": 50,
        "deficit": 350,
        "flagged": False,
    }


def test_registering_again_after_deletion_grants_no_second_bonus(store, subject):
    execute(store, register_user, subject)
    user_id = user_id_for(subject)
    store.append(UserDeletionRequested(**next_event_fields(user_id, 1)))

    again = execute(store, register_user, subject)

    assert again.changed and again.user.id != user_id and again.user.generation == 2
    assert (again.welcome_bonus, again.account.balance) == (0, 0)
    assert len(store.load(account_id_for(user_id))) == 1
