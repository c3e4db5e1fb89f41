"""Credit commands: load the account, decide with `credits_rules`, append; retried on conflicts.

Every command is keyed (order, reservation, adjustment id), so a true repeat appends nothing and
answers the first outcome, while the key reused with other terms is refused by the rules
(Conflict). Racing commands on one account meet at the event store's version check: the loser
catches up and decides again (`with_retries`), so no row lock is ever taken. Within a process,
commands decide on a cached account and take turns per account (see account_cache.py).

For saves that span aggregates (an unlock saving the job with its reservation, a webhook saving
the order, its receipt and the coins), call `load_account` and the `credits_rules` function inside
your own `with_retries`, append their events with yours, then shape the answer with
`reservation_outcome` / `settlement_outcome`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from uuid import UUID

from relivchats.adapters.eventstore import EventStore, VersionConflict
from relivchats.commands.account_cache import account_cache
from relivchats.commands.retry import with_retries
from relivchats.domain import credits, credits_rules
from relivchats.domain.credits import (
    CreditAccount,
    CreditEvent,
    Outcome,
    ReleaseReason,
    Reservation,
    ReversalReason,
)
from relivchats.domain.errors import DomainError, UnknownReservation
from relivchats.domain.events import fold

Decide = Callable[[CreditAccount | None], list[CreditEvent]]


@dataclass(frozen=True)
class LedgerChange:
    """The account after a command, the events it appended (none for a repeat) and where."""

    account: CreditAccount
    recorded: tuple[CreditEvent, ...]
    position: int

    @property
    def duplicate(self) -> bool:
        return not self.recorded


@dataclass(frozen=True)
class ReservationOutcome:
    reservation_id: UUID
    reservation: Reservation
    available: int
    position: int
    duplicate: bool


@dataclass(frozen=True)
class SettlementOutcome:
    reservation_id: UUID
    outcome: Outcome
    amount: int
    available: int
    position: int
    duplicate: bool


def load_account(store: EventStore, user_id: UUID) -> CreditAccount | None:
    return credits.replay(store.load(credits.account_id_for(user_id)))


def change_account(store: EventStore, user_id: UUID, decide: Decide) -> LedgerChange:
    """Decide on the process's cached account and append; on a version conflict catch up and
    decide again. A refusal or a repeat is believed only once decided on a caught-up account."""
    accounts = account_cache(store)
    account_id = credits.account_id_for(user_id)

    def attempt() -> LedgerChange:
        state = accounts.current(account_id)
        new_events = _decided_or_nothing(decide, state)
        if not new_events:
            state = accounts.caught_up(account_id, state)
            new_events = decide(state)  # a refusal now is the account's, not the cache's
            if not new_events:
                assert state is not None, "only opening decides on a missing account"
                return LedgerChange(state, (), store.head())
        try:
            position = store.append(*new_events)
        except VersionConflict:
            accounts.caught_up(account_id, state)
            raise
        account = evolved(state, new_events)
        accounts.remember(account)
        return LedgerChange(account, tuple(new_events), position)

    with accounts.exclusive(account_id):
        return with_retries(store, attempt)


def _decided_or_nothing(decide: Decide, state: CreditAccount | None) -> list[CreditEvent]:
    try:
        return decide(state)
    except DomainError:
        return []


def evolved(state: CreditAccount | None, new_events: Sequence[CreditEvent]) -> CreditAccount:
    account = fold(credits.evolve, new_events, state)
    assert account is not None
    return account


def open_account(store: EventStore, user_id: UUID) -> LedgerChange:
    return change_account(store, user_id, partial(credits_rules.open_account, user_id=user_id))


def purchase_coins(store: EventStore, user_id: UUID, order_id: UUID, coins: int) -> LedgerChange:
    return change_account(
        store, user_id, partial(credits_rules.purchase, order_id=order_id, coins=coins)
    )


def reserve_coins(
    store: EventStore,
    user_id: UUID,
    reservation_id: UUID,
    amount: int,
    job_id: UUID,
    expires_at: datetime,
) -> ReservationOutcome:
    """Hold coins for a job; a repeat answers the reservation made first."""
    decide = partial(
        credits_rules.reserve,
        reservation_id=reservation_id,
        amount=amount,
        expires_at=expires_at,
        job_id=job_id,
    )
    change = change_account(store, user_id, decide)
    return reservation_outcome(change.account, reservation_id, change.position, change.duplicate)


def capture_reservation(
    store: EventStore, user_id: UUID, reservation_id: UUID
) -> SettlementOutcome:
    decide = partial(credits_rules.capture, reservation_id=reservation_id)
    change = change_account(store, user_id, decide)
    return settlement_outcome(change.account, reservation_id, change.position, change.duplicate)


def release_reservation(
    store: EventStore, user_id: UUID, reservation_id: UUID, reason: ReleaseReason
) -> SettlementOutcome:
    decide = partial(credits_rules.release, reservation_id=reservation_id, reason=reason)
    change = change_account(store, user_id, decide)
    return settlement_outcome(change.account, reservation_id, change.position, change.duplicate)


def expire_reservations(store: EventStore, user_id: UUID, now: datetime) -> LedgerChange:
    """Release every reservation of the account whose expiry has passed (the sweeper's step)."""
    return change_account(store, user_id, partial(credits_rules.expire_due, now=now))


def reverse_purchase(
    store: EventStore,
    user_id: UUID,
    order_id: UUID,
    coins: int,
    reason: ReversalReason,
    reversal_id: UUID | None = None,
) -> LedgerChange:
    decide = partial(
        credits_rules.reverse,
        order_id=order_id,
        coins=coins,
        reason=reason,
        reversal_id=reversal_id,
    )
    return change_account(store, user_id, decide)


def adjust_coins(
    store: EventStore, user_id: UUID, adjustment_id: UUID, amount: int, reason: str, actor: str
) -> LedgerChange:
    decide = partial(
        credits_rules.adjust, adjustment_id=adjustment_id, amount=amount, reason=reason, actor=actor
    )
    return change_account(store, user_id, decide)


def reservation_outcome(
    account: CreditAccount, reservation_id: UUID, position: int, duplicate: bool
) -> ReservationOutcome:
    reservation = account.known_reservation(reservation_id)
    if reservation is None:
        raise UnknownReservation("no such reservation", reservation_id=str(reservation_id))
    return ReservationOutcome(
        reservation_id, reservation, account.available, position, duplicate=duplicate
    )


def settlement_outcome(
    account: CreditAccount, reservation_id: UUID, position: int, duplicate: bool
) -> SettlementOutcome:
    resolution = account.resolved_reservations[reservation_id]
    return SettlementOutcome(
        reservation_id,
        resolution.outcome,
        resolution.reservation.amount,
        account.available,
        position,
        duplicate=duplicate,
    )
