"""Response bodies of `/api/credits`."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from pydantic import BaseModel, Field


class Balance(BaseModel):
    balance: int = Field(description="settled credits minus captured debits")
    held: int = Field(description="coins reserved for running jobs")
    available: int = Field(description="balance minus held: what an unlock may reserve")
    flagged: bool = Field(description="a refund or dispute took the balance below zero")


class Transaction(BaseModel):
    sequence: int = Field(description="the entry's number in the account's ledger, from 1")
    type: str = Field(description="welcome_bonus, purchase, reservation, capture, release, ...")
    amount: int = Field(description="signed change to the balance")
    held_change: int
    balance_after: int
    available_after: int
    reference_id: UUID | None = Field(description="order, reservation or adjustment id")
    job_id: UUID | None
    description: str
    created_at: datetime


class TransactionPage(BaseModel):
    items: list[Transaction]
    total: int
    limit: int
    offset: int
    next_offset: int | None


class CoinPackage(BaseModel):
    package_id: str
    name: str
    coins: int
    price_inr: Decimal
    price_usd: Decimal
    price_inr_paise: int
    price_usd_cents: int
    popular: bool
