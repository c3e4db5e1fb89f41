"""The CreditAccount aggregate: one coin ledger per user, its events, its state and its replay.

Every event carries what it moves (a capture and a release name their amount and job), so the
state fold, the ledger read model and the auditor's replay all derive the same numbers from the
events alone, without looking anything up. The rules that decide which events a command produces
live in `credits_rules.py`; the auditor's running totals in `ledger_entries.py`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from typing import ClassVar, Literal
from uuid import UUID

from relivchats.domain.events import Event, deterministic_id, fold
from relivchats.domain.ledger_chain import GENESIS, recorded_or_linked

ReleaseReason = Literal["failed", "expired", "cancelled"]
ReversalReason = Literal["refund", "dispute"]
Outcome = Literal["captured", "released"]


@lru_cache(maxsize=65536)  # a uuid5 (SHA-1) per balance read otherwise
def account_id_for(user_id: UUID) -> UUID:
    return deterministic_id("credit-account", user_id)


@dataclass(frozen=True)
class CreditEvent(Event):
    """An event of a credit account; `KIND` names the type of its ledger entry."""

    KIND: ClassVar[str] = ""
    # The link of the account's hash chain, set when decided (domain/ledger_chain.py);
    # None only on events stored before the chain existed.
    chain_hash: str | None = field(default=None, kw_only=True)


@dataclass(frozen=True)
class AccountOpened(CreditEvent):
    TOPIC = "credits.AccountOpened.v1"
    KIND = "welcome_bonus"
    user_id: UUID
    welcome_bonus: int


@dataclass(frozen=True)
class CoinsPurchased(CreditEvent):
    TOPIC = "credits.CoinsPurchased.v1"
    KIND = "purchase"
    order_id: UUID
    coins: int


@dataclass(frozen=True)
class CoinsReserved(CreditEvent):
    """Coins held for a job: no longer available, not yet taken from the balance."""

    TOPIC = "credits.CoinsReserved.v1"
    KIND = "reservation"
    reservation_id: UUID
    amount: int
    expires_at: datetime
    job_id: UUID


@dataclass(frozen=True)
class ReservationCaptured(CreditEvent):
    TOPIC = "credits.ReservationCaptured.v1"
    KIND = "capture"
    reservation_id: UUID
    amount: int
    job_id: UUID


@dataclass(frozen=True)
class ReservationReleased(CreditEvent):
    TOPIC = "credits.ReservationReleased.v1"
    KIND = "release"
    reservation_id: UUID
    amount: int
    job_id: UUID
    reason: ReleaseReason


@dataclass(frozen=True)
class CoinsReversed(CreditEvent):
    """A refund or dispute takes an order's coins back, even below zero.

    Partial refunds take an order's coins back in steps; each step has its own `reversal_id`.
    None (the default) names the order's single, whole reversal: the key is then the order id.
    """

    TOPIC = "credits.CoinsReversed.v1"
    KIND = "reversal"
    order_id: UUID
    coins: int
    reason: ReversalReason
    reversal_id: UUID | None = None

    @property
    def reversal_key(self) -> UUID:
        return self.reversal_id or self.order_id


@dataclass(frozen=True)
class CoinsAdjusted(CreditEvent):
    """An operator's correction; `actor` is an operator id, never personal data."""

    TOPIC = "credits.CoinsAdjusted.v1"
    KIND = "adjustment"
    adjustment_id: UUID
    amount: int
    reason: str
    actor: str


@dataclass(frozen=True)
class Movement:
    """What one event does to the account, as the ledger shows it."""

    balance: int
    held: int
    reference_id: UUID | None
    job_id: UUID | None
    description: str


def movement(event: CreditEvent) -> Movement:
    match event:
        case AccountOpened(welcome_bonus=bonus):
            return Movement(bonus, 0, None, None, f"Welcome bonus of {bonus} coins")
        case CoinsPurchased(order_id=order, coins=coins):
            return Movement(coins, 0, order, None, f"Bought {coins} coins (order {order})")
        case CoinsReserved(reservation_id=rid, amount=amount, job_id=job):
            return Movement(0, amount, rid, job, f"Reserved {amount} coins for job {job}")
        case ReservationCaptured(reservation_id=rid, amount=amount, job_id=job):
            return Movement(-amount, -amount, rid, job, f"Spent {amount} coins on job {job}")
        case ReservationReleased(reservation_id=rid, amount=amount, job_id=job, reason=why):
            text = f"Released {amount} coins held for job {job} ({why})"
            return Movement(0, -amount, rid, job, text)
        case CoinsReversed(order_id=order, coins=coins, reason=why):
            text = f"Took back {coins} coins after a {why} of order {order}"
            return Movement(-coins, 0, order, None, text)
        case CoinsAdjusted(adjustment_id=aid, amount=amount, reason=why, actor=actor):
            return Movement(amount, 0, aid, None, f"Adjusted {amount:+d} coins by {actor}: {why}")
    raise TypeError(f"{type(event).__name__} moves no coins")


ReservationStatus = Literal["open", "captured", "released"]


# Looked up by type, not matched: the ledger's rebuild asks once per reservation event.
_RESERVATION_STATUS: Mapping[type[CreditEvent], ReservationStatus] = {
    CoinsReserved: "open",
    ReservationCaptured: "captured",
    ReservationReleased: "released",
}


def reservation_status_named_by(event: CreditEvent) -> ReservationStatus | None:
    """Where a reservation stands after its event, as the ledger's read model and audit name it."""
    return _RESERVATION_STATUS.get(type(event))


@dataclass(frozen=True)
class Reservation:
    amount: int
    expires_at: datetime
    job_id: UUID


@dataclass(frozen=True)
class Resolution:
    """How a reservation ended, kept so that a repeated command can answer the first outcome."""

    reservation: Reservation
    outcome: Outcome
    reason: ReleaseReason | None


@dataclass(frozen=True)
class CreditAccount:
    id: UUID
    user_id: UUID
    version: int
    balance: int
    open_reservations: Mapping[UUID, Reservation]
    resolved_reservations: Mapping[UUID, Resolution]
    credited_orders: Mapping[UUID, int]  # order id -> coins credited
    reversed_orders: Mapping[UUID, int]  # order id -> coins taken back so far
    reversal_keys: frozenset[UUID]
    adjustments: Mapping[UUID, tuple[int, str]]  # adjustment id -> (amount, reason)
    head_hash: str = GENESIS  # the hash chain's last link (domain/ledger_chain.py)

    @property
    def held(self) -> int:
        return sum(reservation.amount for reservation in self.open_reservations.values())

    @property
    def available(self) -> int:
        return self.balance - self.held

    @property
    def flagged(self) -> bool:
        """Only a reversal can take the balance below zero; reserving waits until it recovers."""
        return self.balance < 0

    def known_reservation(self, reservation_id: UUID) -> Reservation | None:
        """The reservation with this id, open or resolved."""
        if reservation_id in self.resolved_reservations:
            return self.resolved_reservations[reservation_id].reservation
        return self.open_reservations.get(reservation_id)


def evolve(state: CreditAccount | None, event: Event) -> CreditAccount:
    if isinstance(event, AccountOpened):
        return _opened(event)
    assert state is not None, f"{type(event).__name__} before AccountOpened"
    assert isinstance(event, CreditEvent), f"{type(event).__name__} is not a credit event"
    moved = replace(
        state,
        version=event.originator_version,
        balance=state.balance + movement(event).balance,
        head_hash=recorded_or_linked(state.head_hash, event),
    )
    return _remember(moved, event)


def _opened(event: AccountOpened) -> CreditAccount:
    return CreditAccount(
        id=event.originator_id,
        user_id=event.user_id,
        version=event.originator_version,
        balance=event.welcome_bonus,
        open_reservations={},
        resolved_reservations={},
        credited_orders={},
        reversed_orders={},
        reversal_keys=frozenset(),
        adjustments={},
        head_hash=recorded_or_linked(GENESIS, event),
    )


def _remember(state: CreditAccount, event: CreditEvent) -> CreditAccount:
    """Record the keys that let each command count exactly once."""
    match event:
        case CoinsPurchased(order_id=order, coins=coins):
            return replace(state, credited_orders={**state.credited_orders, order: coins})
        case CoinsReserved(reservation_id=rid):
            held = Reservation(event.amount, event.expires_at, event.job_id)
            return replace(state, open_reservations={**state.open_reservations, rid: held})
        case ReservationCaptured(reservation_id=rid):
            return _resolve(state, rid, "captured", None)
        case ReservationReleased(reservation_id=rid, reason=why):
            return _resolve(state, rid, "released", why)
        case CoinsReversed(order_id=order, coins=coins):
            taken_back = state.reversed_orders.get(order, 0) + coins
            return replace(
                state,
                reversed_orders={**state.reversed_orders, order: taken_back},
                reversal_keys=state.reversal_keys | {event.reversal_key},
            )
        case CoinsAdjusted(adjustment_id=aid, amount=amount, reason=why):
            return replace(state, adjustments={**state.adjustments, aid: (amount, why)})
    return state


def _resolve(
    state: CreditAccount, rid: UUID, outcome: Outcome, reason: ReleaseReason | None
) -> CreditAccount:
    still_open = dict(state.open_reservations)
    resolution = Resolution(still_open.pop(rid), outcome, reason)
    return replace(
        state,
        open_reservations=still_open,
        resolved_reservations={**state.resolved_reservations, rid: resolution},
    )


def replay(events: Iterable[Event]) -> CreditAccount | None:
    return fold(evolve, events)
