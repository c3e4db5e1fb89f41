"""Request and response bodies of `/api/users`."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field


class StoredUser(BaseModel):
    user_id: UUID
    created: bool
    registered_at: datetime
    welcome_bonus: int = Field(description="coins granted by this call: 50 the first time, else 0")
    balance: int
    available: int
    position: int


class Me(BaseModel):
    user_id: UUID
    email: str | None
    name: str | None
    registered_at: datetime
    balance: int | None = Field(description="null until the ledger read model has the account")
    held: int | None
    available: int | None


class AccountDeleted(BaseModel):
    user_id: UUID
    deleted: bool = Field(description="true: this call deleted it; false: it already was")
    deleted_at: datetime
    erasure_due_at: datetime = Field(description="personal data is erased from this time on")
    chats_deleted: int
    reservations_released: int
    position: int


class AccountExport(BaseModel):
    """Everything held about the caller; the sections' rows are as the read models hold them."""

    format: str
    profile: dict[str, Any]
    chats: list[dict[str, Any]]
    conversations: list[dict[str, Any]]
    ledger: list[dict[str, Any]]
    payment_orders: list[dict[str, Any]]
