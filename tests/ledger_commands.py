"""Credit commands for tests and benchmarks: the credit rules run through the unit of work.

Production changes accounts only inside other commands (registration, unlock, outcomes, the
sweeper, webhooks), so these have no production caller; they live here, written exactly as a
command would be: decide with `credits_rules` on the account the unit of work gives, and save.
Every one is keyed, so a true repeat appends nothing and answers the first outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from uuid import UUID

from relivchats.commands.insight_outcomes import LedgerChange
from relivchats.commands.unit_of_work import UnitOfWork
from relivchats.domain import credits_rules
from relivchats.domain.credits import (
    CreditAccount,
    CreditEvent,
    Outcome,
    ReleaseReason,
    Reservation,
    evolve,
)
from relivchats.domain.errors import UnknownReservation

Decide = Callable[[CreditAccount | None], list[CreditEvent]]


@dataclass(frozen=True)
class ReservationOutcome:
    reservation_id: UUID
    reservation: Reservation
    available: int
    position: int
    changed: bool


@dataclass(frozen=True)
class SettlementOutcome:
    reservation_id: UUID
    outcome: Outcome
    amount: int
    available: int
    position: int
    changed: bool


def decided(commands: list[Decide]) -> tuple[list[CreditEvent], CreditAccount | None]:
    """Run commands on an in-memory account: the events a history of them would store."""
    state: CreditAccount | None = None
    events: list[CreditEvent] = []
    for command in commands:
        for event in command(state):
            state = evolve(state, event)
            events.append(event)
    return events, state


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
    return reservation_outcome(change.account, reservation_id, change.position, change.changed)


def capture_reservation(uow: UnitOfWork, user_id: UUID, reservation_id: UUID) -> SettlementOutcome:
    decide = partial(credits_rules.capture, reservation_id=reservation_id)
    change = change_account(uow, user_id, decide)
    return settlement_outcome(change.account, reservation_id, change.position, change.changed)


def release_reservation(
    uow: UnitOfWork, user_id: UUID, reservation_id: UUID, reason: ReleaseReason
) -> SettlementOutcome:
    decide = partial(credits_rules.release, reservation_id=reservation_id, reason=reason)
    change = change_account(uow, user_id, decide)
    return settlement_outcome(change.account, reservation_id, change.position, change.changed)


def reservation_outcome(
    account: CreditAccount, reservation_id: UUID, position: int, changed: bool
) -> ReservationOutcome:
    reservation = account.known_reservation(reservation_id)
    if reservation is None:
        raise UnknownReservation("no such reservation", reservation_id=str(reservation_id))
    return ReservationOutcome(
        reservation_id, reservation, account.available, position, changed=changed
    )


def settlement_outcome(
    account: CreditAccount, reservation_id: UUID, position: int, changed: bool
) -> SettlementOutcome:
    resolution = account.resolved_reservations[reservation_id]
    return SettlementOutcome(
        reservation_id,
        resolution.outcome,
        resolution.reservation.amount,
        account.available,
        position,
        changed=changed,
    )
