"""Credit commands over the real event store: repeats, conflicts, and two processes' caches.

`store` and `elsewhere` are two event stores on the same database, standing for two processes:
each has its own in-memory account cache, so each sometimes decides on a stale account.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from relivchats.adapters.eventstore import EventStore
from relivchats.commands.credits import (
    capture_reservation,
    open_account,
    purchase_coins,
    release_reservation,
    reserve_coins,
)
from relivchats.commands.unit_of_work import execute
from relivchats.commands.users import register_user
from relivchats.domain.credits import AccountOpened, account_id_for
from relivchats.domain.errors import (
    Conflict,
    InsufficientFunds,
    ReservationAlreadyResolved,
    UnknownReservation,
)
from relivchats.domain.events import next_event_fields
from relivchats.domain.users import UserDeletionRequested, user_id_for
from relivchats.settings import Settings

LATER = datetime.now(UTC) + timedelta(minutes=20)


@pytest.fixture(scope="module")
def elsewhere(settings: Settings) -> Iterator[EventStore]:
    other = EventStore(settings.model_copy(update={"eventstore_pool_size": 2}))
    yield other
    other.close()


@pytest.fixture
def user_id(store: EventStore) -> uuid.UUID:
    fresh = uuid.uuid4()
    execute(store, open_account, fresh)
    return fresh


def test_a_stale_cache_never_refuses_what_the_account_allows(store, elsewhere, user_id):
    assert execute(elsewhere, open_account, user_id).account.available == 50  # cached over there
    execute(store, purchase_coins, user_id, uuid.uuid4(), 400)

    held = execute(elsewhere, reserve_coins, user_id, uuid.uuid4(), 400, uuid.uuid4(), LATER)

    assert (held.duplicate, held.available) == (False, 50)


def test_a_reservation_made_in_one_process_is_captured_in_another(store, elsewhere, user_id):
    execute(elsewhere, open_account, user_id)
    held = execute(store, reserve_coins, user_id, uuid.uuid4(), 20, uuid.uuid4(), LATER)

    spent = execute(elsewhere, capture_reservation, user_id, held.reservation_id)

    assert (spent.outcome, spent.amount, spent.available, spent.duplicate) == (
        "captured",
        20,
        30,
        False,
    )


def test_racing_processes_both_act_on_the_newest_account(store, elsewhere, user_id):
    execute(elsewhere, open_account, user_id)
    execute(
        store, reserve_coins, user_id, uuid.uuid4(), 10, uuid.uuid4(), LATER
    )  # elsewhere is stale

    second = execute(elsewhere, reserve_coins, user_id, uuid.uuid4(), 10, uuid.uuid4(), LATER)

    assert second.available == 30
    assert [e.originator_version for e in store.load(account_id_for(user_id))] == [1, 2, 3]


def test_a_repeated_reservation_answers_the_first_one(store, user_id):
    reservation_id, job_id = uuid.uuid4(), uuid.uuid4()
    first = execute(store, reserve_coins, user_id, reservation_id, 30, job_id, LATER)
    again = execute(store, reserve_coins, user_id, reservation_id, 30, job_id, LATER + timedelta(1))

    assert again.duplicate and not first.duplicate
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
    assert (repeat.duplicate, repeat.outcome, repeat.available) == (True, "released", 50)


def test_insufficient_funds_reports_required_available_and_deficit(store, user_id):
    with pytest.raises(InsufficientFunds) as refused:
        execute(store, reserve_coins, user_id, uuid.uuid4(), 400, uuid.uuid4(), LATER)
    assert refused.value.details | {"flagged": False} == {
        "required": 400,
        "available": 50,
        "deficit": 350,
        "flagged": False,
    }


def test_registration_saves_the_user_and_the_bonus_together(store, subject, database_url):
    registration = execute(store, register_user, subject)
    user_id = registration.user.id

    with psycopg.connect(database_url) as conn:
        positions = conn.execute(
            "SELECT notification_id FROM relivchats_events WHERE originator_id = ANY(%s)"
            " ORDER BY notification_id",
            ([user_id, account_id_for(user_id)],),
        ).fetchall()
    assert registration.welcome_bonus == 50
    assert [type(e) for e in store.load(account_id_for(user_id))] == [AccountOpened]
    assert [row[0] for row in positions] == [registration.position - 1, registration.position]


def test_registering_again_after_deletion_grants_no_second_bonus(store, subject):
    execute(store, register_user, subject)
    user_id = user_id_for(subject)
    store.append(UserDeletionRequested(**next_event_fields(user_id, 1)))

    again = execute(store, register_user, subject)

    assert again.created and again.user.id != user_id and again.user.generation == 2
    assert (again.welcome_bonus, again.account.balance) == (0, 0)
    assert len(store.load(account_id_for(user_id))) == 1
