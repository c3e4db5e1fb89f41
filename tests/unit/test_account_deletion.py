"""Deleting an account and registering again, on the in-memory event store; which account a
token acts for. (Erasure against PostgreSQL: tests/integration/test_ledger_chain.py and the
end-to-end test.)"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from relivchats.adapters.memory_eventstore import InMemoryEventStore
from relivchats.commands.account_deletion import delete_account
from relivchats.commands.unit_of_work import execute
from relivchats.commands.users import register_user
from relivchats.domain import credits, users, users_rules
from relivchats.domain.errors import Conflict, UserDeleted
from relivchats.domain.users import LatestAccount, UserDeletionRequested
from tests.ledger_commands import purchase_coins, reserve_coins

NOW = datetime.now(UTC)
GRACE = timedelta(days=30)


@pytest.fixture
def store() -> InMemoryEventStore:
    return InMemoryEventStore()


def test_deleting_releases_every_open_reservation_once_and_asking_again_changes_nothing(store):
    user_id = execute(store, register_user, "leaver").user.id
    execute(store, purchase_coins, user_id, uuid.uuid4(), 850)
    for amount in (400, 100):
        execute(store, reserve_coins, user_id, uuid.uuid4(), amount, uuid.uuid4(), NOW + GRACE)

    first = delete_account(store, user_id, "leaver", [], GRACE)
    again = delete_account(store, user_id, "leaver", [], GRACE)

    account = credits.replay(store.load(credits.account_id_for(user_id)))
    assert account is not None and (account.balance, account.held) == (900, 0)
    assert (first.requested, first.reservations_released) == (True, 2)
    assert (again.requested, again.reservations_released) == (False, 0)
    assert first.erasure_due_at - first.deleted_at == GRACE
    [deletion] = [e for e in store.load(user_id) if isinstance(e, UserDeletionRequested)]
    assert deletion.subject == "leaver"


def test_the_subject_registers_again_as_a_new_empty_account_without_a_second_bonus(store):
    first = execute(store, register_user, "returner")
    delete_account(store, first.user.id, "returner", [], GRACE)

    second = execute(store, register_user, "returner")
    repeated = execute(store, register_user, "returner")

    assert second.user.id == users.user_id_for("returner", 2) != first.user.id
    assert (second.changed, second.welcome_bonus, second.account.balance) == (True, 0, 0)
    assert (repeated.changed, repeated.user.id) == (False, second.user.id)


def test_erasure_waits_for_the_grace_period_unless_told_to_skip_it(store):
    user_id = execute(store, register_user, "eraser").user.id
    with pytest.raises(Conflict):
        users_rules.erase(users.replay(store.load(user_id)), NOW)
    delete_account(store, user_id, "eraser", [], GRACE)
    deleted = users.replay(store.load(user_id))

    with pytest.raises(Conflict):
        users_rules.erase(deleted, NOW)
    assert users_rules.erase(deleted, NOW, skip_grace=True)
    assert deleted is not None and deleted.erasure_due_at is not None
    assert users_rules.erase(deleted, deleted.erasure_due_at + timedelta(seconds=1))


KEY = users.subject_key_for("someone")
DELETED_AT = NOW - timedelta(hours=1)


def test_a_token_issued_before_a_deletion_is_the_deleted_accounts_and_refused():
    latest = LatestAccount(generation=1, deleted=True, last_deletion_at=DELETED_AT)

    with pytest.raises(UserDeleted) as refused:
        users.account_for_token(KEY, latest, DELETED_AT - timedelta(minutes=5))
    assert refused.value.code == "account_deleted"
    with pytest.raises(UserDeleted):
        users.account_for_token(KEY, latest, None)  # no `iat`: cannot tell, refused


def test_a_later_token_acts_for_the_next_account_and_then_for_it():
    deleted = LatestAccount(generation=1, deleted=True, last_deletion_at=DELETED_AT)
    again = LatestAccount(generation=2, deleted=False, last_deletion_at=DELETED_AT)

    assert users.account_for_token(KEY, deleted, NOW) == users.user_id_for("someone", 2)
    assert users.account_for_token(KEY, again, NOW) == users.user_id_for("someone", 2)
    assert users.account_for_token(KEY, None, None) == users.user_id_for("someone")
    with pytest.raises(UserDeleted):  # the old token stays refused after re-registering
        users.account_for_token(KEY, again, DELETED_AT)
