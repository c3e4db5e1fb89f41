"""What each credit command decides: pure functions from (state, command data) to new events.

Each function returns the events to append (an empty list when the command was already carried
out, so a redelivered command changes nothing) or raises a domain error. Every command is keyed
(order id, reservation id, adjustment id), and the event store's version check makes two racing
commands on one account decide one after the other.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any, Concatenate, ParamSpec
from uuid import UUID

from relivchats.domain.credits import (
    AccountOpened,
    CoinsAdjusted,
    CoinsPurchased,
    CoinsReserved,
    CoinsReversed,
    CreditAccount,
    CreditEvent,
    Outcome,
    ReleaseReason,
    ReservationCaptured,
    ReservationReleased,
    ReversalReason,
    account_id_for,
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
from relivchats.domain.events import next_event_fields
from relivchats.domain.ledger_chain import GENESIS, chained

WELCOME_BONUS = 50
P = ParamSpec("P")
Decision = Callable[Concatenate[CreditAccount | None, P], list[CreditEvent]]


def _linked(decide: Decision[P]) -> Decision[P]:
    """Every decision's events leave with their hash-chain links (domain/ledger_chain.py)."""

    @functools.wraps(decide)
    def decide_and_link(
        state: CreditAccount | None, /, *args: P.args, **kwargs: P.kwargs
    ) -> list[CreditEvent]:
        return chained(state.head_hash if state else GENESIS, decide(state, *args, **kwargs))

    return decide_and_link


@_linked
def open_account(
    state: CreditAccount | None, user_id: UUID, welcome_bonus: int = WELCOME_BONUS
) -> list[CreditEvent]:
    """The account id is derived from the user id, so the bonus is granted once per user ever."""
    if state is not None:
        return []
    fields = next_event_fields(account_id_for(user_id), 0)
    return [AccountOpened(**fields, user_id=user_id, welcome_bonus=welcome_bonus)]


@_linked
def purchase(state: CreditAccount | None, order_id: UUID, coins: int) -> list[CreditEvent]:
    account = _opened(state)
    _require_positive(coins)
    if order_id in account.credited_orders:
        return []
    return [CoinsPurchased(**_next(account), order_id=order_id, coins=coins)]


@_linked
def reserve(
    state: CreditAccount | None,
    reservation_id: UUID,
    amount: int,
    expires_at: datetime,
    job_id: UUID,
) -> list[CreditEvent]:
    """Hold `amount` coins for a job. The expiry is not compared on a repeat: a retried command
    computes a fresh one."""
    account = _opened(state)
    _require_positive(amount)
    if expires_at.utcoffset() is None:
        raise ValueError("expires_at must be timezone-aware")
    known = account.known_reservation(reservation_id)
    if known is not None:
        if (known.amount, known.job_id) == (amount, job_id):
            return []
        raise Conflict(
            "this reservation id is already used with other terms",
            reservation_id=str(reservation_id),
            amount=known.amount,
            job_id=str(known.job_id),
        )
    _require_available(account, amount)
    return [
        CoinsReserved(
            **_next(account),
            reservation_id=reservation_id,
            amount=amount,
            expires_at=expires_at,
            job_id=job_id,
        )
    ]


@_linked
def capture(state: CreditAccount | None, reservation_id: UUID) -> list[CreditEvent]:
    """Spend the whole reservation. Expiry is the sweeper's business: until the sweeper has
    released it, an open reservation can still be captured, and the version check lets only one
    of the two win."""
    account = _opened(state)
    held = account.open_reservations.get(reservation_id)
    if held is None:
        return _already_resolved(account, reservation_id, "captured")
    return [
        ReservationCaptured(
            **_next(account), reservation_id=reservation_id, amount=held.amount, job_id=held.job_id
        )
    ]


@_linked
def release(
    state: CreditAccount | None, reservation_id: UUID, reason: ReleaseReason
) -> list[CreditEvent]:
    account = _opened(state)
    if reservation_id not in account.open_reservations:
        return _already_resolved(account, reservation_id, "released")
    return [_released(account, reservation_id, reason, offset=0)]


@_linked
def expire_due(state: CreditAccount | None, now: datetime) -> list[CreditEvent]:
    """Release every open reservation whose expiry has passed, oldest first."""
    account = _opened(state)
    due = sorted(
        (held.expires_at, rid)
        for rid, held in account.open_reservations.items()
        if held.expires_at <= now
    )
    return [_released(account, rid, "expired", offset) for offset, (_, rid) in enumerate(due)]


@_linked
def reverse(
    state: CreditAccount | None,
    order_id: UUID,
    coins: int,
    reason: ReversalReason,
    reversal_id: UUID | None = None,
) -> list[CreditEvent]:
    """Take an order's coins back, whether refunded, disputed or both. The balance may go
    negative: the coins may already be spent, and the debt is the user's to settle.

    Each reversal counts once per key: `reversal_id` for one step of a partial refund, else the
    order id (one whole reversal per order). Together they never take back more than credited.
    """
    account = _opened(state)
    if (reversal_id or order_id) in account.reversal_keys:
        return []
    credited = account.credited_orders.get(order_id)
    if credited is None:
        raise OrderNotCredited("no coins were credited for this order", order_id=str(order_id))
    remaining = credited - account.reversed_orders.get(order_id, 0)
    if not 0 < coins <= remaining:
        raise InvalidCommand(
            "a reversal takes back at most the coins credited", coins=coins, remaining=remaining
        )
    return [
        CoinsReversed(
            **_next(account), order_id=order_id, coins=coins, reason=reason, reversal_id=reversal_id
        )
    ]


@_linked
def adjust(
    state: CreditAccount | None, adjustment_id: UUID, amount: int, reason: str, actor: str
) -> list[CreditEvent]:
    """An operator's credit or debit; a debit may not take more than is available."""
    account = _opened(state)
    if not reason.strip() or not actor.strip():
        raise InvalidCommand("an adjustment needs a reason and an actor")
    if amount == 0:
        raise InvalidCommand("an adjustment must move coins", amount=amount)
    if adjustment_id in account.adjustments:
        return _repeated_adjustment(account, adjustment_id, amount, reason)
    if amount < 0:
        _require_available(account, -amount)
    return [
        CoinsAdjusted(
            **_next(account), adjustment_id=adjustment_id, amount=amount, reason=reason, actor=actor
        )
    ]


def _repeated_adjustment(
    account: CreditAccount, adjustment_id: UUID, amount: int, reason: str
) -> list[CreditEvent]:
    """The same adjustment again changes nothing; its id reused for another one is a conflict."""
    first_amount, first_reason = account.adjustments[adjustment_id]
    if (first_amount, first_reason) == (amount, reason):
        return []
    raise Conflict(
        "this adjustment id is already used with other terms",
        adjustment_id=str(adjustment_id),
        amount=first_amount,
    )


def _opened(state: CreditAccount | None) -> CreditAccount:
    if state is None:
        raise AccountNotOpened("this user has no credit account yet")
    return state


def _next(account: CreditAccount, offset: int = 0) -> dict[str, Any]:
    return next_event_fields(account.id, account.version + offset)


def _require_positive(coins: int) -> None:
    if coins <= 0:
        raise InvalidCommand("coins must be a positive number", coins=coins)


def _require_available(account: CreditAccount, required: int) -> None:
    if required > account.available:
        raise InsufficientFunds(
            "not enough coins available",
            required=required,
            available=account.available,
            deficit=required - account.available,
            flagged=account.flagged,
        )


def _released(
    account: CreditAccount, rid: UUID, reason: ReleaseReason, offset: int
) -> ReservationReleased:
    held = account.open_reservations[rid]
    return ReservationReleased(
        **_next(account, offset),
        reservation_id=rid,
        amount=held.amount,
        job_id=held.job_id,
        reason=reason,
    )


def _already_resolved(account: CreditAccount, rid: UUID, wanted: Outcome) -> list[CreditEvent]:
    """A repeat of the first outcome changes nothing; the opposite outcome is refused."""
    resolution = account.resolved_reservations.get(rid)
    if resolution is None:
        raise UnknownReservation("no such reservation", reservation_id=str(rid))
    if resolution.outcome != wanted:
        raise ReservationAlreadyResolved(
            f"this reservation was already {resolution.outcome}",
            reservation_id=str(rid),
            outcome=resolution.outcome,
        )
    return []
