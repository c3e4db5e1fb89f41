"""The auditor's ledger of a credit account: one entry per event with the running totals.

Summed from each event's `movement` alone, independently of the state fold (`credits.evolve`), so
the audit can check that the two agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from relivchats.domain.credits import CreditEvent, movement
from relivchats.domain.events import Event


@dataclass(frozen=True)
class LedgerEntry:
    """One row of the coin ledger: what an event moved and where it left the account."""

    version: int
    kind: str
    amount: int  # signed change to the balance
    held_change: int
    balance_after: int
    held_after: int
    reference_id: UUID | None
    job_id: UUID | None
    description: str
    timestamp: datetime

    @property
    def available_after(self) -> int:
        return self.balance_after - self.held_after


def ledger_entries(events: Iterable[Event]) -> list[LedgerEntry]:
    """The auditor's ledger: running totals summed from the events, independent of `evolve`."""
    entries: list[LedgerEntry] = []
    balance = held = 0
    for event in events:
        if not isinstance(event, CreditEvent):
            raise TypeError(f"{type(event).__name__} is not a credit event")
        moved = movement(event)
        balance, held = balance + moved.balance, held + moved.held
        entries.append(
            LedgerEntry(
                version=event.originator_version,
                kind=event.KIND,
                amount=moved.balance,
                held_change=moved.held,
                balance_after=balance,
                held_after=held,
                reference_id=moved.reference_id,
                job_id=moved.job_id,
                description=moved.description,
                timestamp=event.timestamp,
            )
        )
    return entries
