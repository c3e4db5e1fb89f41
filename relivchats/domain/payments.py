"""Payment orders: buying coins with money, exactly once per order.

A `PaymentOrder` is keyed by (user, Idempotency-Key), so retrying the create request names the
same aggregate. Providers deliver webhooks at least once and in any order, so the coins an order
grants are a pure function of its state (`PaymentOrder.coins_granted`), whatever the order of
its events. What each command decides, and the coins it moves, lives in `payments_rules.py`.

Webhook receipts, which make each provider event act once, live in `webhooks`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from relivchats.domain.events import Event, deterministic_id, fold


def order_id_for(user_id: UUID, idempotency_key: str) -> UUID:
    return deterministic_id("order", user_id, idempotency_key)


def request_fingerprint(package_id: str, provider: str) -> str:
    """What makes two create requests 'the same body' for the Idempotency-Key check."""
    return hashlib.sha256(f"{package_id}|{provider}".encode()).hexdigest()


@dataclass(frozen=True)
class OrderCreated(Event):
    TOPIC = "payments.OrderCreated.v1"
    user_id: UUID
    package_id: str
    coins: int
    provider: str
    amount_minor: int
    currency: str
    request_fingerprint: str
    provider_order_id: str


@dataclass(frozen=True)
class OrderPaid(Event):
    TOPIC = "payments.OrderPaid.v1"
    provider_payment_id: str
    amount_minor: int
    currency: str


@dataclass(frozen=True)
class OrderFailed(Event):
    TOPIC = "payments.OrderFailed.v1"
    reason: str


@dataclass(frozen=True)
class OrderRefunded(Event):
    """Providers report the running total refunded on the payment, so that is what we keep."""

    TOPIC = "payments.OrderRefunded.v1"
    total_refunded_minor: int


@dataclass(frozen=True)
class OrderDisputed(Event):
    TOPIC = "payments.OrderDisputed.v1"


@dataclass(frozen=True)
class OrderFlagged(Event):
    """A capture that does not match the order: recorded for an operator, grants no coins."""

    TOPIC = "payments.OrderFlagged.v1"
    reason: str
    provider_payment_id: str
    expected_amount_minor: int
    expected_currency: str
    received_amount_minor: int
    received_currency: str


class OrderStatus(StrEnum):
    CREATED = "created"
    FAILED = "failed"
    PAID = "paid"
    FLAGGED = "flagged"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    DISPUTED = "disputed"


@dataclass(frozen=True)
class PaymentOrder:
    id: UUID
    version: int
    user_id: UUID
    package_id: str
    coins: int
    provider: str
    amount_minor: int
    currency: str
    request_fingerprint: str
    provider_order_id: str
    created_at: datetime
    provider_payment_id: str | None = None  # set by a capture that matched the order
    flagged: bool = False
    failure_reason: str | None = None
    total_refunded_minor: int = 0
    disputed: bool = False

    @property
    def captured(self) -> bool:
        return self.provider_payment_id is not None

    @property
    def coins_owed_back(self) -> int:
        """Coins refunds and disputes take back: all, or the refunded share rounded up."""
        if self.disputed:
            return self.coins
        refunded = min(self.total_refunded_minor, self.amount_minor)
        return -(-self.coins * refunded // self.amount_minor)

    @property
    def coins_granted(self) -> int:
        """The coins this order leaves on the user's account, given everything known so far."""
        if not self.captured:
            return 0
        return max(0, self.coins - self.coins_owed_back)

    @property
    def status(self) -> OrderStatus:
        if self.disputed:
            return OrderStatus.DISPUTED
        if self.total_refunded_minor >= self.amount_minor:
            return OrderStatus.REFUNDED
        if self.total_refunded_minor > 0:
            return OrderStatus.PARTIALLY_REFUNDED
        if self.flagged:
            return OrderStatus.FLAGGED
        if self.captured:
            return OrderStatus.PAID
        if self.failure_reason is not None:
            return OrderStatus.FAILED
        return OrderStatus.CREATED


def evolve(state: PaymentOrder | None, event: Event) -> PaymentOrder:
    if isinstance(event, OrderCreated):
        return _created(event)
    assert state is not None, f"{type(event).__name__} before OrderCreated"
    state = replace(state, version=event.originator_version)
    if isinstance(event, OrderPaid):
        return replace(state, provider_payment_id=event.provider_payment_id)
    if isinstance(event, OrderFlagged):
        return replace(state, flagged=True)
    if isinstance(event, OrderFailed):
        return replace(state, failure_reason=event.reason)
    if isinstance(event, OrderRefunded):
        return replace(state, total_refunded_minor=event.total_refunded_minor)
    if isinstance(event, OrderDisputed):
        return replace(state, disputed=True)
    return state


def _created(event: OrderCreated) -> PaymentOrder:
    return PaymentOrder(
        id=event.originator_id,
        version=event.originator_version,
        user_id=event.user_id,
        package_id=event.package_id,
        coins=event.coins,
        provider=event.provider,
        amount_minor=event.amount_minor,
        currency=event.currency,
        request_fingerprint=event.request_fingerprint,
        provider_order_id=event.provider_order_id,
        created_at=event.timestamp,
    )


def replay(events: Iterable[Event]) -> PaymentOrder | None:
    return fold(evolve, events)
