"""The unit of work on the in-memory event store: one save, one load, retries, the account policy.

No database: `InMemoryEventStore` is the library's in-memory recorder behind the same interface.
Two "processes" are two `Process` views of one store, each with its own account cache.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from relivchats.adapters.memory_eventstore import InMemoryEventStore
from relivchats.commands.unit_of_work import UnitOfWork, execute
from relivchats.commands.users import register_user
from relivchats.domain import credits, users, users_rules
from relivchats.domain.errors import Busy, InsufficientFunds
from relivchats.domain.events import Event, next_event_fields
from relivchats.domain.users import UserRegistered
from tests.ledger_commands import open_account, purchase_coins, reserve_coins
from tests.unit.process_views import Process

LATER = datetime.now(UTC) + timedelta(minutes=20)


@pytest.fixture
def store() -> InMemoryEventStore:
    return InMemoryEventStore()


def test_events_of_every_aggregate_touched_are_saved_in_one_append(store):
    registration = execute(store, register_user, "asha")

    assert store.appends == 1
    assert registration.changed
    assert registration.welcome_bonus == registration.account.available == 50
    assert store.load(credits.account_id_for(registration.user.id))[-1].originator_version == 1


def test_a_true_duplicate_appends_nothing_and_answers_the_first_outcome(store):
    first = execute(store, register_user, "asha")
    again = execute(store, register_user, "asha")

    assert store.appends == 1
    assert (again.changed, again.welcome_bonus) == (False, 0)
    assert again.user == first.user
    assert again.position == store.head() == first.position


def test_an_aggregate_is_loaded_once_per_attempt(store):
    process = Process(store)
    user_id = users.user_id_for("asha")

    def load_twice(uow: UnitOfWork) -> None:
        uow.load(user_id, users.evolve)
        uow.load(user_id, users.evolve)
        uow.save()

    execute(process, load_twice)

    assert process.loads == [user_id]


def test_the_unit_answers_an_aggregate_as_its_recorded_events_leave_it(store):
    user_id = uuid.uuid4()

    def register(uow: UnitOfWork) -> users.User | None:
        uow.record(*users_rules.register(uow.load(user_id, users.evolve), user_id))
        uow.save()
        return uow.load(user_id, users.evolve)

    assert execute(store, register) == users.replay(store.load(user_id))


def test_a_version_conflict_is_decided_again_then_busy_after_the_configured_attempts():
    store = InMemoryEventStore(command_max_attempts=3)
    user_id = uuid.uuid4()
    store.append(UserRegistered(**next_event_fields(user_id, 0)))
    tries = []

    def register_version_one_again(uow: UnitOfWork) -> int:
        tries.append(1)
        uow.record(UserRegistered(**next_event_fields(user_id, 0)))
        return uow.save().position

    with pytest.raises(Busy) as refused:
        execute(store, register_version_one_again)

    assert len(tries) == 3
    assert refused.value.details["attempts"] == 3


def test_a_command_that_expects_collisions_gets_more_attempts():
    store = InMemoryEventStore(command_max_attempts=2)
    user_id = uuid.uuid4()
    store.append(UserRegistered(**next_event_fields(user_id, 0)))
    tries = []

    def colliding(uow: UnitOfWork) -> None:
        uow.expect_collisions(5)
        tries.append(1)
        uow.record(UserRegistered(**next_event_fields(user_id, 0)))
        uow.save()

    with pytest.raises(Busy):
        execute(store, colliding)
    assert len(tries) == 5


def test_a_conflict_then_success_saves_once(store):
    user_id = uuid.uuid4()
    tries: list[int] = []

    def loses_the_first_race(uow: UnitOfWork) -> int:
        state = uow.load(user_id, users.evolve)
        if not tries:  # another writer appends first, after our load
            store.append(*users_rules.register(None, user_id))
        tries.append(1)
        uow.record(*users_rules.register(state, user_id))
        return uow.save().position

    position = execute(store, loses_the_first_race)

    assert len(tries) == 2
    assert position == store.head()
    assert len(store.load(user_id)) == 1


def test_events_recorded_but_not_saved_are_a_bug(store):
    def forgets_to_save(uow: UnitOfWork) -> None:
        uow.record(*users_rules.register(None, uuid.uuid4()))

    with pytest.raises(RuntimeError, match="did not save"):
        execute(store, forgets_to_save)
    assert store.head() == 0


def test_a_stale_cache_never_refuses_what_the_account_allows(store):
    here, elsewhere = Process(store), Process(store)
    user_id = uuid.uuid4()
    assert execute(elsewhere, open_account, user_id).account.available == 50  # cached there
    execute(here, purchase_coins, user_id, uuid.uuid4(), 400)

    held = execute(elsewhere, reserve_coins, user_id, uuid.uuid4(), 400, uuid.uuid4(), LATER)

    assert (held.changed, held.available) == (True, 50)


def test_a_refusal_on_a_current_cache_is_not_decided_twice(store):
    process = Process(store)
    user_id = uuid.uuid4()
    execute(process, open_account, user_id)
    process.loads.clear()

    with pytest.raises(InsufficientFunds):
        execute(process, reserve_coins, user_id, uuid.uuid4(), 400, uuid.uuid4(), LATER)

    assert process.loads == [credits.account_id_for(user_id)]  # one check past the cache


def test_a_decision_on_a_current_cached_account_loads_nothing(store):
    process = Process(store)
    user_id = uuid.uuid4()
    execute(process, open_account, user_id)
    process.loads.clear()

    execute(process, reserve_coins, user_id, uuid.uuid4(), 10, uuid.uuid4(), LATER)

    assert process.loads == []  # decided on the cache; the store checks the version


def test_a_save_that_leaves_a_stale_cached_account_alone_decides_again(store):
    here, elsewhere = Process(store), Process(store)
    user_id = uuid.uuid4()
    execute(elsewhere, open_account, user_id)
    execute(here, purchase_coins, user_id, uuid.uuid4(), 400)
    seen: list[int] = []

    def notes_the_balance(uow: UnitOfWork) -> None:
        account = uow.account(user_id)
        assert account is not None
        seen.append(account.available)
        uow.record(*users_rules.register(uow.load(user_id, users.evolve), user_id))
        uow.save()

    execute(elsewhere, notes_the_balance)

    assert seen == [50, 450]  # decided on the stale cache, then again on the caught-up account
    assert len(store.load(user_id)) == 1


def test_appended_events_reach_the_store_through_its_mapper(store):
    """The in-memory store encodes and decodes events as PostgreSQL's would."""
    registration = execute(store, register_user, "asha")
    events: list[Event] = store.load(registration.user.id)
    assert isinstance(events[0], UserRegistered)
    assert events[0].timestamp.tzinfo is not None
