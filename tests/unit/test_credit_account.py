"""The coin ledger's rules, one behaviour per test, on the pure CreditAccount domain."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from relivchats.adapters.eventstore import build_mapper
from relivchats.domain import credits_rules as rules
from relivchats.domain.credits import (
    CoinsReserved,
    CreditAccount,
    CreditEvent,
    ReservationReleased,
    account_id_for,
    evolve,
    replay,
)
from relivchats.domain.errors import (
    AccountNotOpened,
    Conflict,
    InsufficientFunds,
    InvalidCommand,
    OrderNotCredited,
    ReservationAlreadyResolved,
    UnknownReservation,
)
from relivchats.domain.events import EVENT_CLASSES, Event
from relivchats.domain.ledger_entries import ledger_entries

NOON = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
IN_20_MINUTES = NOON + timedelta(minutes=20)


class Account:
    """One account's event history, driven through the decide functions like a command handler."""

    def __init__(self, welcome_bonus: int = 50):
        self.user_id = uuid.uuid4()
        self.events: list[CreditEvent] = []
        self.state: CreditAccount | None = None
        self.do(rules.open_account, self.user_id, welcome_bonus)

    def do(self, decide: Callable[..., list[CreditEvent]], *args: Any) -> list[CreditEvent]:
        new_events = decide(self.state, *args)
        for event in new_events:
            self.state = evolve(self.state, event)
        self.events.extend(new_events)
        return new_events

    @property
    def now(self) -> CreditAccount:
        assert self.state is not None
        return self.state

    def buy(self, coins: int) -> uuid.UUID:
        order_id = uuid.uuid4()
        self.do(rules.purchase, order_id, coins)
        return order_id

    def hold(self, amount: int, expires_at: datetime = IN_20_MINUTES) -> uuid.UUID:
        reservation_id = uuid.uuid4()
        self.do(rules.reserve, reservation_id, amount, expires_at, uuid.uuid4())
        return reservation_id


def test_account_id_is_derived_from_the_user_id() -> None:
    user_id = uuid.uuid4()
    assert account_id_for(user_id) == account_id_for(user_id)
    assert account_id_for(user_id) != account_id_for(uuid.uuid4())
    account = Account()
    assert account.now.id == account_id_for(account.user_id)


def test_opening_grants_the_welcome_bonus() -> None:
    account = Account()
    assert (account.now.balance, account.now.held, account.now.available) == (50, 0, 50)


def test_opening_again_grants_no_second_bonus() -> None:
    account = Account()
    assert account.do(rules.open_account, account.user_id) == []
    assert account.now.balance == 50


def test_commands_on_an_unopened_account_are_refused() -> None:
    with pytest.raises(AccountNotOpened):
        rules.purchase(None, uuid.uuid4(), 400)
    with pytest.raises(AccountNotOpened):
        rules.expire_due(None, NOON)


def test_purchase_credits_the_order_coins() -> None:
    account = Account()
    account.buy(400)
    assert account.now.balance == 450


def test_second_credit_for_the_same_order_changes_nothing() -> None:
    account = Account()
    order_id = account.buy(400)
    assert account.do(rules.purchase, order_id, 400) == []
    assert account.now.balance == 450


def test_purchase_of_no_coins_is_refused() -> None:
    with pytest.raises(InvalidCommand):
        Account().buy(0)


def test_reserve_holds_coins_without_touching_the_balance() -> None:
    account = Account()
    account.buy(400)
    account.hold(400)
    assert (account.now.balance, account.now.held, account.now.available) == (450, 400, 50)


def test_reserve_beyond_available_reports_the_deficit() -> None:
    account = Account()
    account.buy(400)
    account.hold(400)
    with pytest.raises(InsufficientFunds) as refused:
        account.hold(400)
    assert refused.value.details == {
        "required": 400,
        "available": 50,
        "deficit": 350,
        "flagged": False,
    }
    assert account.now.held == 400


def test_repeated_reserve_with_the_same_terms_changes_nothing() -> None:
    account = Account()
    reservation_id, job_id = uuid.uuid4(), uuid.uuid4()
    account.do(rules.reserve, reservation_id, 30, IN_20_MINUTES, job_id)
    later = IN_20_MINUTES + timedelta(seconds=5)  # a retried command computes a fresh expiry
    assert account.do(rules.reserve, reservation_id, 30, later, job_id) == []
    account.do(rules.capture, reservation_id)
    assert account.do(rules.reserve, reservation_id, 30, later, job_id) == []
    assert account.now.balance == 20


def test_reserve_reusing_an_id_for_another_amount_conflicts() -> None:
    account = Account()
    reservation_id, job_id = uuid.uuid4(), uuid.uuid4()
    account.do(rules.reserve, reservation_id, 30, IN_20_MINUTES, job_id)
    with pytest.raises(Conflict):
        account.do(rules.reserve, reservation_id, 40, IN_20_MINUTES, job_id)


def test_reserve_needs_a_timezone_aware_expiry() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Account().hold(10, expires_at=datetime(2025, 3, 1, 12, 20))  # naive on purpose


def test_capture_spends_the_held_coins() -> None:
    account = Account()
    reservation_id = account.hold(30)
    account.do(rules.capture, reservation_id)
    assert (account.now.balance, account.now.held, account.now.available) == (20, 0, 20)
    assert account.now.resolved_reservations[reservation_id].outcome == "captured"


def test_second_capture_of_a_reservation_changes_nothing() -> None:
    account = Account()
    reservation_id = account.hold(30)
    account.do(rules.capture, reservation_id)
    assert account.do(rules.capture, reservation_id) == []
    assert account.now.balance == 20


def test_release_returns_the_held_coins() -> None:
    account = Account()
    reservation_id = account.hold(30)
    account.do(rules.release, reservation_id, "failed")
    assert (account.now.balance, account.now.held, account.now.available) == (50, 0, 50)


def test_release_after_capture_is_refused() -> None:
    account = Account()
    reservation_id = account.hold(30)
    account.do(rules.capture, reservation_id)
    with pytest.raises(ReservationAlreadyResolved) as refused:
        account.do(rules.release, reservation_id, "failed")
    assert refused.value.details["outcome"] == "captured"


def test_capture_after_release_is_refused() -> None:
    account = Account()
    reservation_id = account.hold(30)
    account.do(rules.release, reservation_id, "expired")
    with pytest.raises(ReservationAlreadyResolved):
        account.do(rules.capture, reservation_id)
    assert account.now.balance == 50


def test_release_for_another_reason_after_a_release_changes_nothing() -> None:
    account = Account()
    reservation_id = account.hold(30)
    account.do(rules.release, reservation_id, "expired")
    assert account.do(rules.release, reservation_id, "failed") == []
    assert account.now.resolved_reservations[reservation_id].reason == "expired"


def test_unknown_reservation_is_reported() -> None:
    account = Account()
    with pytest.raises(UnknownReservation):
        account.do(rules.capture, uuid.uuid4())
    with pytest.raises(UnknownReservation):
        account.do(rules.release, uuid.uuid4(), "cancelled")


def test_expire_due_releases_only_reservations_past_their_expiry() -> None:
    account = Account()
    late = account.hold(10, expires_at=NOON + timedelta(minutes=2))
    early = account.hold(10, expires_at=NOON + timedelta(minutes=1))
    future = account.hold(10, expires_at=NOON + timedelta(minutes=30))
    released = account.do(rules.expire_due, NOON + timedelta(minutes=5))
    assert [e.reservation_id for e in released if isinstance(e, ReservationReleased)] == [
        early,
        late,
    ]
    assert [event.originator_version for event in released] == [5, 6]
    assert list(account.now.open_reservations) == [future]
    assert account.do(rules.expire_due, NOON + timedelta(minutes=5)) == []


def test_refund_takes_the_order_coins_back_once() -> None:
    account = Account()
    order_id = account.buy(400)
    account.do(rules.reverse, order_id, 400, "refund")
    assert account.do(rules.reverse, order_id, 400, "dispute") == []
    assert account.now.balance == 50


def test_partial_refunds_take_coins_back_in_keyed_steps_up_to_the_credited_coins() -> None:
    account = Account()
    order_id = account.buy(850)
    first, second = uuid.uuid4(), uuid.uuid4()
    account.do(rules.reverse, order_id, 284, "refund", first)
    assert account.do(rules.reverse, order_id, 284, "refund", first) == []
    account.do(rules.reverse, order_id, 566, "dispute", second)
    assert (account.now.balance, account.now.reversed_orders[order_id]) == (50, 850)
    with pytest.raises(InvalidCommand):
        account.do(rules.reverse, order_id, 1, "refund", uuid.uuid4())


def test_a_reversal_step_cannot_take_back_more_than_remains() -> None:
    account = Account()
    order_id = account.buy(400)
    account.do(rules.reverse, order_id, 300, "refund", uuid.uuid4())
    with pytest.raises(InvalidCommand) as refused:
        account.do(rules.reverse, order_id, 101, "refund", uuid.uuid4())
    assert refused.value.details["remaining"] == 100


def test_reversal_below_zero_flags_the_account_and_blocks_reserving() -> None:
    account = Account()
    order_id = account.buy(400)
    account.do(rules.capture, account.hold(400))
    account.do(rules.reverse, order_id, 400, "dispute")
    assert (account.now.balance, account.now.flagged) == (-350, True)
    with pytest.raises(InsufficientFunds) as refused:
        account.hold(1)
    assert refused.value.details["deficit"] == 351
    assert refused.value.details["flagged"] is True


def test_flag_clears_once_the_balance_is_positive_again() -> None:
    account = Account(welcome_bonus=0)
    order_id = account.buy(400)
    account.do(rules.capture, account.hold(400))
    account.do(rules.reverse, order_id, 400, "refund")
    account.buy(850)
    assert (account.now.balance, account.now.flagged) == (450, False)
    account.hold(400)


def test_reversal_of_an_order_never_credited_is_refused() -> None:
    with pytest.raises(OrderNotCredited):
        Account().do(rules.reverse, uuid.uuid4(), 400, "refund")


def test_reversal_of_more_than_was_credited_is_refused() -> None:
    account = Account()
    order_id = account.buy(400)
    with pytest.raises(InvalidCommand):
        account.do(rules.reverse, order_id, 401, "refund")


def test_adjustment_credits_and_debits_with_a_reason() -> None:
    account = Account()
    account.do(rules.adjust, uuid.uuid4(), 25, "goodwill for a slow job", "operator-7")
    account.do(rules.adjust, uuid.uuid4(), -10, "duplicate goodwill", "operator-7")
    assert account.now.balance == 65


def test_adjustment_is_applied_once_per_id() -> None:
    account = Account()
    adjustment_id = uuid.uuid4()
    account.do(rules.adjust, adjustment_id, 25, "goodwill", "operator-7")
    assert account.do(rules.adjust, adjustment_id, 25, "goodwill", "operator-7") == []
    assert account.now.balance == 75


def test_adjustment_id_reused_for_another_amount_conflicts() -> None:
    account = Account()
    adjustment_id = uuid.uuid4()
    account.do(rules.adjust, adjustment_id, 25, "goodwill", "operator-7")
    with pytest.raises(Conflict) as refused:
        account.do(rules.adjust, adjustment_id, 30, "goodwill", "operator-7")
    assert refused.value.details["amount"] == 25


def test_adjustment_cannot_debit_more_than_is_available() -> None:
    account = Account()
    account.hold(30)
    with pytest.raises(InsufficientFunds) as refused:
        account.do(rules.adjust, uuid.uuid4(), -21, "clawback", "operator-7")
    assert refused.value.details["deficit"] == 1


@pytest.mark.parametrize(("amount", "reason"), [(10, " "), (0, "nothing")])
def test_adjustment_needs_a_reason_and_an_amount(amount: int, reason: str) -> None:
    with pytest.raises(InvalidCommand):
        Account().do(rules.adjust, uuid.uuid4(), amount, reason, "operator-7")


def test_ledger_entries_carry_running_balance_and_held_coins() -> None:
    account = Account()
    order_id = account.buy(400)
    reservation_id = account.hold(400)
    account.do(rules.capture, reservation_id)
    account.do(rules.reverse, order_id, 400, "refund")
    rows = [
        (entry.kind, entry.amount, entry.held_change, entry.balance_after, entry.held_after)
        for entry in ledger_entries(account.events)
    ]
    assert rows == [
        ("welcome_bonus", 50, 0, 50, 0),
        ("purchase", 400, 0, 450, 0),
        ("reservation", 0, 400, 450, 400),
        ("capture", -400, -400, 50, 0),
        ("reversal", -400, 0, -350, 0),
    ]


def test_ledger_entries_name_the_order_reservation_and_job() -> None:
    account = Account()
    order_id = account.buy(400)
    reservation_id = account.hold(400)
    account.do(rules.release, reservation_id, "failed")
    purchase, reservation, release = ledger_entries(account.events)[1:]
    job_id = account.now.resolved_reservations[reservation_id].reservation.job_id
    assert purchase.reference_id == order_id
    assert str(order_id) in purchase.description
    assert (reservation.reference_id, reservation.job_id) == (reservation_id, job_id)
    assert (release.reference_id, release.job_id) == (reservation_id, job_id)
    assert "failed" in release.description
    assert release.timestamp == account.events[-1].timestamp


def test_replay_rebuilds_the_state_from_the_events() -> None:
    account = Account()
    account.buy(400)
    account.do(rules.capture, account.hold(100))
    account.hold(50)
    assert replay(account.events) == account.state
    assert [event.originator_version for event in account.events] == [1, 2, 3, 4, 5]


def test_every_credit_event_has_its_own_versioned_topic() -> None:
    credit_topics = [topic for topic, cls in EVENT_CLASSES.items() if issubclass(cls, CreditEvent)]
    assert len(credit_topics) == 7
    assert all(topic.startswith("credits.") and topic.endswith(".v1") for topic in credit_topics)


def test_credit_events_survive_the_event_store_encoding() -> None:
    account = Account()
    order_id = account.buy(400)
    account.do(rules.capture, account.hold(100))
    account.do(rules.release, account.hold(50), "cancelled")
    account.do(rules.reverse, order_id, 400, "dispute")
    account.do(rules.adjust, uuid.uuid4(), 5, "goodwill", "operator-7")
    mapper = build_mapper()
    decoded = [
        cast(Event, mapper.to_domain_event(mapper.to_stored_event(event)))
        for event in account.events
    ]
    assert decoded == account.events
    assert isinstance(decoded[2], CoinsReserved)
    assert replay(decoded) == account.state
    assert ledger_entries(decoded) == ledger_entries(account.events)
