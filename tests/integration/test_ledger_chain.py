"""The coin ledger's hash chain against PostgreSQL: an amount edited in the table is named by the
auditor's verify; erasing an account changes no link and no total (issue 15)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial

import asyncpg
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relivchats.adapters.eventstore import EventStore
from relivchats.audit import verify_account
from relivchats.commands.account_deletion import delete_account
from relivchats.commands.erasure import erase_account
from relivchats.commands.unit_of_work import execute
from relivchats.commands.users import register_user
from relivchats.domain import credits, credits_rules, ledger_chain
from relivchats.domain.credits import account_id_for
from relivchats.domain.errors import DomainError
from relivchats.projections.ledger import LedgerProjection
from relivchats.projections.rebuild import rebuild
from relivchats.settings import Settings
from tests.helpers import eventually
from tests.ledger_commands import (
    capture_reservation,
    change_account,
    purchase_coins,
    release_reservation,
    reserve_coins,
)

GRACE = timedelta(days=30)


def in_an_hour() -> datetime:
    return datetime.now(tz=UTC) + timedelta(hours=1)


def relivchats(database_url: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-m", "relivchats", *arguments]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture
def private_store(private_database_url: str) -> Iterator[EventStore]:
    store = EventStore(Settings(database_url=private_database_url))
    yield store
    store.close()


def ledger_of(store: EventStore, user_id: uuid.UUID) -> credits.CreditAccount:
    account = credits.replay(store.load(account_id_for(user_id)))
    assert account is not None
    return account


async def ledger_projected(database_url: str, account_id: uuid.UUID, events: int) -> None:
    """Rebuild the ledger until it covers the account's events: a rebuild stops at the
    cluster's horizon, which another session's open transaction may hold back."""

    async def covered() -> bool:
        await rebuild(database_url, LedgerProjection())
        conn = await asyncpg.connect(database_url)
        try:
            return (await verify_account(conn, account_id)).events == events
        finally:
            await conn.close()

    await eventually(covered, within=30)


def a_user_who_spent(store: EventStore) -> uuid.UUID:
    user_id = execute(store, register_user, f"chained-{uuid.uuid4().hex}").user.id
    execute(store, purchase_coins, user_id, uuid.uuid4(), 850)
    reservation = uuid.uuid4()
    execute(store, reserve_coins, user_id, reservation, 400, uuid.uuid4(), in_an_hour())
    execute(store, capture_reservation, user_id, reservation)
    execute(store, reserve_coins, user_id, uuid.uuid4(), 100, uuid.uuid4(), in_an_hour())
    return user_id


async def test_verify_names_the_event_whose_amount_was_edited_in_postgresql(
    private_store, private_database_url
):
    user_id = a_user_who_spent(private_store)
    account_id = account_id_for(user_id)
    await ledger_projected(private_database_url, account_id, events=5)

    conn = await asyncpg.connect(private_database_url)
    try:
        assert (await verify_account(conn, account_id)).ok
        stored = await conn.fetchval(
            "SELECT state FROM relivchats_events WHERE originator_id = $1"
            " AND originator_version = 2",
            account_id,
        )
        state = orjson.loads(stored)
        state["coins"] = 8500  # someone gives themselves ten times the coins they paid for
        await conn.execute(
            "UPDATE relivchats_events SET state = $2 WHERE originator_id = $1"
            " AND originator_version = 2",
            account_id,
            orjson.dumps(state),
        )
        result = await verify_account(conn, account_id)
    finally:
        await conn.close()

    chain = [d for d in result.differences if d.table == "hash_chain"]
    assert [(d.key, d.field) for d in chain] == [(f"{account_id}/2", "chain_hash")]
    cli = relivchats(private_database_url, "audit", "verify", "--all")
    assert cli.returncode == 1
    assert f'"key": "{account_id}/2"' in cli.stdout and '"table": "hash_chain"' in cli.stdout


async def test_the_chain_and_the_totals_hold_after_an_erasure(private_store, private_database_url):
    user_id = a_user_who_spent(private_store)
    before = ledger_of(private_store, user_id)

    delete_account(private_store, user_id, "the-subject", [], GRACE)
    deleted = ledger_of(private_store, user_id)
    erased = erase_account(
        private_store, private_database_url, user_id, datetime.now(tz=UTC), skip_grace=True
    )
    after = ledger_of(private_store, user_id)
    await ledger_projected(private_database_url, account_id_for(user_id), after.version)

    assert erased.erased
    assert (after.balance, after.held) == (deleted.balance, deleted.held) == (before.balance, 0)
    assert after.head_hash == deleted.head_hash
    assert ledger_chain.check(private_store.load(account_id_for(user_id))).first_break is None
    cli = relivchats(private_database_url, "audit", "verify", "--user", str(user_id))
    assert cli.returncode == 0, cli.stdout + cli.stderr


Step = tuple[str, int]
STEPS = st.lists(
    st.tuples(
        st.sampled_from(["buy", "reserve", "capture", "release", "refund"]),
        st.integers(min_value=1, max_value=900),
    ),
    max_size=8,
)


def apply_steps(store: EventStore, user_id: uuid.UUID, steps: list[Step]) -> None:
    orders: list[uuid.UUID] = []
    held: list[uuid.UUID] = []
    for kind, amount in steps:
        try:
            if kind == "buy":
                orders.append(uuid.uuid4())
                execute(store, purchase_coins, user_id, orders[-1], amount)
            elif kind == "reserve":
                held.append(uuid.uuid4())
                execute(store, reserve_coins, user_id, held[-1], amount, uuid.uuid4(), in_an_hour())
            elif kind == "capture" and held:
                execute(store, capture_reservation, user_id, held.pop())
            elif kind == "release" and held:
                execute(store, release_reservation, user_id, held.pop(), "failed")
            elif kind == "refund" and orders:
                refund = partial(
                    credits_rules.reverse, order_id=orders.pop(), coins=1, reason="refund"
                )
                execute(store, change_account, user_id, refund)
        except DomainError:
            pass  # refused (not enough coins, ...): the ledger is what it is


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=STEPS)
def test_any_ledger_replays_to_the_same_totals_after_erasure(
    private_store, private_database_url, steps
):
    user_id = execute(private_store, register_user, f"property-{uuid.uuid4().hex}").user.id
    apply_steps(private_store, user_id, steps)
    delete_account(private_store, user_id, "a-subject", [], GRACE)
    before = ledger_of(private_store, user_id)

    erase_account(
        private_store, private_database_url, user_id, datetime.now(tz=UTC), skip_grace=True
    )
    after = ledger_of(private_store, user_id)

    assert (after.balance, after.held, after.version) == (
        before.balance,
        before.held,
        0 + before.version,
    )
    assert after.head_hash == before.head_hash
    assert ledger_chain.check(private_store.load(account_id_for(user_id))).first_break is None
