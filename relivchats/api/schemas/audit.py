"""Response bodies of `/api/audit`."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel


class LedgerEntry(BaseModel):
    version: int
    position: int
    type: str
    amount: int
    held_change: int
    balance_after: int
    held_after: int
    available_after: int
    reference_id: UUID | None
    job_id: UUID | None
    description: str
    occurred_at: datetime


class Ledger(BaseModel):
    user_id: UUID
    account_id: UUID
    entries: list[LedgerEntry]
    total: int
    limit: int
    offset: int


class Difference(BaseModel):
    table: str
    key: str
    field: str
    expected: str
    actual: str


class VerificationReport(BaseModel):
    user_id: UUID
    account_id: UUID
    ok: bool
    events: int
    checked_upto: int
    balance: int | None
    held: int | None
    differences: list[Difference]
