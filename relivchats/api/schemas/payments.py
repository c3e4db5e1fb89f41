"""Request and response bodies of `/api/payments`."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field


class OrderRequest(BaseModel):
    package_id: str = Field(min_length=1, max_length=64)
    provider: Literal["razorpay", "stripe"]


class OrderPlaced(BaseModel):
    order_id: UUID
    created: bool
    status: str
    package_id: str
    coins: int
    provider: str
    amount_minor: int
    currency: str
    provider_order_id: str
    client_secret: str | None = Field(description="Stripe: confirms the PaymentIntent")
    key_id: str | None = Field(description="Razorpay: the key id the checkout opens with")
    position: int


class OrderView(BaseModel):
    order_id: UUID
    status: str
    package_id: str
    coins: int
    coins_granted: int
    provider: str
    provider_order_id: str
    amount_minor: int
    currency: str
    total_refunded_minor: int
    failure_reason: str | None
    created_at: datetime
    updated_at: datetime
    position: int


class WebhookAck(BaseModel):
    outcome: Literal["applied", "duplicate", "unmatched", "ignored"]
    order_id: UUID | None
    order_status: str | None
    position: int
