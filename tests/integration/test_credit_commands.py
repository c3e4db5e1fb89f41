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
from relivchats.commands.unit_of_work import execute
from relivchats.commands.users import register_user
from relivchats.domain.credits import AccountOpened, account_id_for
from relivchats.settings import Settings
from tests.ledger_commands import (
    capture_reservation,
    open_account,
    purchase_coins,
    reserve_coins,
)

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

    assert (held.changed, held.available) == (True, 50)


def test_a_reservation_made_in_one_process_is_captured_in_another(store, elsewhere, user_id):
    execute(elsewhere, open_account, user_id)
    held = execute(store, reserve_coins, user_id, uuid.uuid4(), 20, uuid.uuid4(), LATER)

    spent = execute(elsewhere, capture_reservation, user_id, held.reservation_id)

    assert (spent.outcome, spent.amount, spent.available, not spent.changed) == (
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
