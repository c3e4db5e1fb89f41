"""Model test of the coin ledger (quality.md R1) over the pure CreditAccount domain.

Hypothesis drives random sequences of reserve, capture, release, expire, purchase, refund,
adjustment and redelivery of any earlier command, and checks after every step that the account
agrees with a plain bookkeeping model, that replay and the auditor's ledger agree with the
incrementally evolved state, and that no reservation resolves twice.

`record` is the one place where events are kept; a machine over the real event store can
subclass `CreditLedgerMachine` and append there instead.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, precondition, rule

from relivchats.domain import credits_rules as rules
from relivchats.domain.credits import (
    CreditAccount,
    CreditEvent,
    ReleaseReason,
    ReservationCaptured,
    ReservationReleased,
    ReversalReason,
    evolve,
    replay,
)
from relivchats.domain.errors import (
    InsufficientFunds,
    ReservationAlreadyResolved,
    UnknownReservation,
)
from relivchats.domain.ledger_entries import ledger_entries

Command = Callable[[CreditAccount | None], list[CreditEvent]]
START = datetime(2025, 1, 1, tzinfo=UTC)


class CreditLedgerMachine(RuleBasedStateMachine):
    reservations = Bundle("reservations")
    orders = Bundle("orders")

    def __init__(self) -> None:
        super().__init__()
        self.clock = START
        self.events: list[CreditEvent] = []
        self.account: CreditAccount | None = None
        self.delivered: list[Command] = []
        # The bookkeeping model the account must agree with.
        self.balance = 50
        self.held: dict[uuid.UUID, int] = {}
        self.outcomes: dict[uuid.UUID, str] = {}
        self.credited: dict[uuid.UUID, int] = {}
        self.reversed: set[uuid.UUID] = set()
        self.run(partial(rules.open_account, user_id=uuid.uuid4()))

    def record(self, new_events: list[CreditEvent]) -> None:
        self.events.extend(new_events)

    def run(self, command: Command, reversal: bool = False) -> list[CreditEvent]:
        before = self.account
        new_events = command(before)
        for event in new_events:
            self.account = evolve(self.account, event)
        self.record(new_events)
        self.delivered.append(command)
        if before is not None and not reversal:
            # Our own actions never take available below zero, nor lower it further once a
            # reversal has.
            assert self.now.available >= min(0, before.available)
        return new_events

    @property
    def now(self) -> CreditAccount:
        assert self.account is not None
        return self.account

    @rule(target=orders, coins=st.sampled_from([400, 850, 1600]))
    def purchase(self, coins: int) -> uuid.UUID:
        order_id = uuid.uuid4()
        self.run(partial(rules.purchase, order_id=order_id, coins=coins))
        self.balance += coins
        self.credited[order_id] = coins
        return order_id

    @rule(target=reservations, amount=st.integers(1, 450), minutes=st.integers(1, 30))
    def reserve(self, amount: int, minutes: int) -> uuid.UUID:
        reservation_id, job_id = uuid.uuid4(), uuid.uuid4()
        expires_at = self.clock + timedelta(minutes=minutes)
        command = partial(
            rules.reserve,
            reservation_id=reservation_id,
            amount=amount,
            expires_at=expires_at,
            job_id=job_id,
        )
        available = self.now.available
        if amount > available:
            with pytest.raises(InsufficientFunds) as refused:
                self.run(command)
            assert refused.value.details["deficit"] == amount - available
        else:
            self.run(command)
            self.held[reservation_id] = amount
        return reservation_id

    @rule(reservation_id=reservations)
    def capture(self, reservation_id: uuid.UUID) -> None:
        self.settle(
            partial(rules.capture, reservation_id=reservation_id), reservation_id, "captured"
        )

    @rule(reservation_id=reservations, reason=st.sampled_from(["failed", "cancelled"]))
    def release(self, reservation_id: uuid.UUID, reason: ReleaseReason) -> None:
        command = partial(rules.release, reservation_id=reservation_id, reason=reason)
        self.settle(command, reservation_id, "released")

    def settle(self, command: Command, reservation_id: uuid.UUID, outcome: str) -> None:
        first_outcome = self.outcomes.get(reservation_id)
        if reservation_id not in self.held and first_outcome is None:
            with pytest.raises(UnknownReservation):
                self.run(command)
        elif first_outcome not in (None, outcome):
            with pytest.raises(ReservationAlreadyResolved):
                self.run(command)
        elif first_outcome == outcome:
            assert self.run(command) == []
        else:
            assert len(self.run(command)) == 1
            self.resolve(reservation_id, outcome)

    @rule(minutes=st.integers(0, 20))
    def expire(self, minutes: int) -> None:
        self.clock += timedelta(minutes=minutes)
        for event in self.run(partial(rules.expire_due, now=self.clock)):
            assert isinstance(event, ReservationReleased)
            assert event.reason == "expired"
            self.resolve(event.reservation_id, "released")
        assert all(held.expires_at > self.clock for held in self.now.open_reservations.values())

    @rule(order_id=orders, reason=st.sampled_from(["refund", "dispute"]))
    def refund(self, order_id: uuid.UUID, reason: ReversalReason) -> None:
        coins = self.credited[order_id]
        command = partial(rules.reverse, order_id=order_id, coins=coins, reason=reason)
        new_events = self.run(command, reversal=True)
        assert len(new_events) == (0 if order_id in self.reversed else 1)
        if new_events:
            self.balance -= coins
            self.reversed.add(order_id)

    @rule(amount=st.integers(-100, 100).filter(bool))
    def adjust(self, amount: int) -> None:
        command = partial(
            rules.adjust, adjustment_id=uuid.uuid4(), amount=amount, reason="test", actor="op"
        )
        if amount < 0 and -amount > self.now.available:
            with pytest.raises(InsufficientFunds):
                self.run(command)
        else:
            self.run(command)
            self.balance += amount

    @precondition(lambda self: len(self.delivered) > 1)
    @rule(pick=st.integers(min_value=0))
    def redeliver(self, pick: int) -> None:
        before = self.account
        assert self.run(self.delivered[pick % len(self.delivered)]) == []
        assert self.account == before

    def resolve(self, reservation_id: uuid.UUID, outcome: str) -> None:
        amount = self.held.pop(reservation_id)
        self.outcomes[reservation_id] = outcome
        if outcome == "captured":
            self.balance -= amount

    @invariant()
    def agrees_with_the_bookkeeping_model(self) -> None:
        assert (self.now.balance, self.now.held) == (self.balance, sum(self.held.values()))
        assert set(self.now.open_reservations) == set(self.held)

    @invariant()
    def available_stays_non_negative_until_a_reversal(self) -> None:
        assert self.reversed or self.now.available >= 0

    @invariant()
    def each_reservation_resolves_at_most_once(self) -> None:
        resolutions = Counter(
            event.reservation_id
            for event in self.events
            if isinstance(event, ReservationCaptured | ReservationReleased)
        )
        assert all(count == 1 for count in resolutions.values())
        assert set(resolutions) == set(self.outcomes)

    @invariant()
    def replay_equals_the_evolved_state(self) -> None:
        assert replay(self.events) == self.account
        assert [e.originator_version for e in self.events] == list(range(1, len(self.events) + 1))

    @invariant()
    def ledger_ends_at_the_account_balance(self) -> None:
        last = ledger_entries(self.events)[-1]
        assert (last.balance_after, last.held_after) == (self.now.balance, self.now.held)


CreditLedgerMachine.TestCase.settings = settings(
    max_examples=200, stateful_step_count=40, deadline=None
)
TestCreditLedger = CreditLedgerMachine.TestCase
