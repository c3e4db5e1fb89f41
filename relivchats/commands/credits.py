"""Credit commands: decide with `credits_rules` on the account the unit of work gives, and save.

Every command is keyed (order, reservation, adjustment id), so a true repeat appends nothing and
answers the first outcome, while the key reused with other terms is refused by the rules
(Conflict). Racing commands on one account meet at the event store's version check, and the
unit of work decides again on the caught-up account (commands/unit_of_work.py).

Run them with `execute(store, reserve_coins, ...)` (or `dispatch` from the API). Commands that
save a reservation or a settlement together with other aggregates' events call the
`credits_rules` function themselves and shape the answer with `reservation_outcome` /
`settlement_outcome`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from uuid import UUID

from relivchats.commands.unit_of_work import Saved, UnitOfWork
from relivchats.domain import credits_rules
from relivchats.domain.credits import (
    CreditAccount,
    CreditEvent,
    Outcome,
    ReleaseReason,
    Reservation,
    ReversalReason,
)
from relivchats.domain.errors import UnknownReservation

Decide = Callable[[CreditAccount | None], list[CreditEvent]]


@dataclass(frozen=True)
class LedgerChange:
    """The account after a command and what its save did (appended nothing for a repeat)."""

    account: CreditAccount
    saved: Saved

    @property
    def recorded(self) -> tuple[CreditEvent, ...]:
        return tuple(event for event in self.saved.events if isinstance(event, CreditEvent))

    @property
    def position(self) -> int:
        return self.saved.position

    @property
    def duplicate(self) -> bool:
        return not self.saved.changed


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


def change_account(uow: UnitOfWork, user_id: UUID, decide: Decide) -> LedgerChange:
    """Decide on the user's account and save: the one shape of every credit command."""
    uow.record(*decide(uow.account(user_id)))
    saved = uow.save()
    account = uow.account(user_id)
    assert account is not None, "only opening decides on a missing account"
    return LedgerChange(account, saved)


def open_account(uow: UnitOfWork, user_id: UUID) -> LedgerChange:
    return change_account(uow, user_id, partial(credits_rules.open_account, user_id=user_id))


def purchase_coins(uow: UnitOfWork, user_id: UUID, order_id: UUID, coins: int) -> LedgerChange:
    return change_account(
        uow, user_id, partial(credits_rules.purchase, order_id=order_id, coins=coins)
    )


def reserve_coins(
    uow: UnitOfWork,
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
    change = change_account(uow, user_id, decide)
    return reservation_outcome(change.account, reservation_id, change.position, change.duplicate)


def capture_reservation(uow: UnitOfWork, user_id: UUID, reservation_id: UUID) -> SettlementOutcome:
    decide = partial(credits_rules.capture, reservation_id=reservation_id)
    change = change_account(uow, user_id, decide)
    return settlement_outcome(change.account, reservation_id, change.position, change.duplicate)


def release_reservation(
    uow: UnitOfWork, user_id: UUID, reservation_id: UUID, reason: ReleaseReason
) -> SettlementOutcome:
    decide = partial(credits_rules.release, reservation_id=reservation_id, reason=reason)
    change = change_account(uow, user_id, decide)
    return settlement_outcome(change.account, reservation_id, change.position, change.duplicate)


def expire_reservations(uow: UnitOfWork, user_id: UUID, now: datetime) -> LedgerChange:
    """Release every reservation of the account whose expiry has passed (the sweeper's step)."""
    return change_account(uow, user_id, partial(credits_rules.expire_due, now=now))


def reverse_purchase(
    uow: UnitOfWork,
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
    return change_account(uow, user_id, decide)


def adjust_coins(
    uow: UnitOfWork, user_id: UUID, adjustment_id: UUID, amount: int, reason: str, actor: str
) -> LedgerChange:
    decide = partial(
        credits_rules.adjust, adjustment_id=adjustment_id, amount=amount, reason=reason, actor=actor
    )
    return change_account(uow, user_id, decide)


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
