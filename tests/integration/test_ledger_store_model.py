"""R1 over the real event store: the ledger model test with PostgreSQL, the projection and audit.

`StoreLedgerMachine` is the pure-domain `CreditLedgerMachine` (reserve, capture, release,
expire, purchase, refund, adjustment, redelivery) with every decided event appended to the real
event store through its `record()` hook. On top it redelivers earlier commands through the real
command path (load from the store, decide, append: nothing may be appended), rebuilds the ledger
projection, and checks after every step that the store holds exactly what was decided and that
the auditor's replay of the stored events equals the incrementally projected tables; the rebuild
rule checks that a fresh rebuild equals the incremental tables row for row, and sometimes
switches to it so the incremental projection continues on rebuilt tables.

It runs in a database of its own, driving the projection and the audit on a private event loop
(the machine is synchronous), with bounded examples so it stays well under a minute.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from typing import Any, ClassVar, TypeVar

import asyncpg
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import invariant, precondition, rule, run_state_machine_as_test

from relivchats.adapters.eventstore import EventStore
from relivchats.audit import verify_account
from relivchats.commands.unit_of_work import execute
from relivchats.domain.credits import AccountOpened, CreditEvent
from relivchats.projections import eventlog
from relivchats.projections.ledger import LedgerProjection
from relivchats.projections.projector import ProjectionRunner, connect
from relivchats.projections.rebuild import differences, rebuild
from relivchats.settings import Settings
from tests.ledger_commands import change_account
from tests.unit.test_credit_account_model import CreditLedgerMachine

T = TypeVar("T")


class Harness:
    """The store, a private event loop, and the ledger projection stepped by hand."""

    def __init__(self, database_url: str):
        self.database_url = database_url
        self.store = EventStore(Settings(database_url=database_url, eventstore_pool_size=2))
        self.loop = asyncio.new_event_loop()
        self.conn: asyncpg.Connection = self.run(connect(database_url))
        self.runner = ProjectionRunner(database_url, LedgerProjection())
        self.run(eventlog.ensure_checkpoint(self.conn, LedgerProjection.name))
        self.rebuilds = 0

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coroutine)

    def catch_up(self) -> None:
        async def steps() -> None:
            while await self.runner.step(self.conn):
                pass

        self.run(steps())

    def close(self) -> None:
        self.run(self.conn.close())
        self.loop.close()
        self.store.close()


class StoreLedgerMachine(CreditLedgerMachine):
    harness: ClassVar[Harness]

    def record(self, new_events: list[CreditEvent]) -> None:
        super().record(new_events)
        if new_events:
            self.harness.store.append(*new_events)

    @property
    def opened(self) -> AccountOpened:
        first = self.events[0]
        assert isinstance(first, AccountOpened)
        return first

    @precondition(lambda self: len(self.delivered) > 1)
    @rule(pick=st.integers(min_value=0))
    def redeliver_through_the_store(self, pick: int) -> None:
        command = self.delivered[pick % len(self.delivered)]
        change = execute(self.harness.store, change_account, self.opened.user_id, command)
        assert not change.changed
        assert change.account == self.account

    @rule(switch=st.booleans())
    def rebuild(self, switch: bool) -> None:
        self.harness.catch_up()
        projection = LedgerProjection()
        assert set(
            self.harness.run(differences(self.harness.database_url, projection)).values()
        ) == {0}
        if switch:
            self.harness.run(rebuild(self.harness.database_url, projection))
            self.harness.rebuilds += 1

    @invariant()
    def the_store_holds_what_was_decided(self) -> None:
        assert self.harness.store.load(self.opened.originator_id) == self.events

    @invariant()
    def the_auditors_replay_equals_the_projected_tables(self) -> None:
        self.harness.catch_up()
        verification = self.harness.run(
            verify_account(self.harness.conn, self.opened.originator_id)
        )
        assert verification.differences == []
        assert (verification.balance, verification.held) == (self.now.balance, self.now.held)


@pytest.fixture
def harness(private_database_url: str) -> Iterator[Harness]:
    running = Harness(private_database_url)
    yield running
    running.close()


def test_ledger_over_the_event_store_keeps_its_invariants_and_its_read_model(harness):
    StoreLedgerMachine.harness = harness
    run_state_machine_as_test(
        StoreLedgerMachine,
        settings=settings(
            max_examples=40,
            stateful_step_count=50,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
    assert harness.rebuilds > 0  # the incremental projection also ran on rebuilt tables
    assert harness.store.head() > 100  # and the machine did real work through the store
