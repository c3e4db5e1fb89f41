"""Request and response bodies of `/api/users`."""

from __future__ import annotations

from datetime import datetime
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
