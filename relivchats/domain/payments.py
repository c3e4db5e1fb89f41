"""Payment orders: buying coins with money, exactly once per order.

A `PaymentOrder` is keyed by (user, Idempotency-Key), so retrying the create request names the
same aggregate. Providers deliver webhooks at least once and in any order, so every transition is
decided from the order's state alone and the coins an order grants are a pure function of that
state (`PaymentOrder.coins_granted`). Each decision reports the change of that number as a
`PaymentOutcome`: the coins the ledger must credit or reverse in the same save. Because the number
only depends on state, a refund that lands before its capture leaves nothing to credit, and a
duplicated capture changes nothing.

Webhook receipts, which make each provider event act once, live in `webhooks`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from relivchats.domain.errors import Conflict, NotFound
from relivchats.domain.events import Event, deterministic_id, fold, next_event_fields
from relivchats.domain.packages import CoinPackage

# Each provider charges one currency: Razorpay INR (paise), Stripe USD (cents).
CURRENCY_BY_PROVIDER: dict[str, str] = {"razorpay": "INR", "stripe": "USD"}


def order_price(package: CoinPackage, provider: str) -> tuple[int, str]:
    """What `provider` charges for `package`: (amount in minor units, currency)."""
    currency = CURRENCY_BY_PROVIDER.get(provider)
    if currency is None:
        raise NotFound(f"no payment provider {provider!r}", provider=provider)
    return package.price_in(currency), currency


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


@dataclass(frozen=True)
class PaymentOutcome:
    """What the ledger must do in the same save: credit or reverse this many coins."""

    credit_coins: int = 0
    reverse_coins: int = 0

    @property
    def moves_coins(self) -> bool:
        return bool(self.credit_coins or self.reverse_coins)


@dataclass(frozen=True)
class PaymentDecision:
    events: list[Event]
    order: PaymentOrder
    outcome: PaymentOutcome


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


def replayed_order(state: PaymentOrder | None, fingerprint: str) -> PaymentOrder | None:
    """The order a repeated create request refers to; the same key with another body is refused.

    Call it before asking the provider for an order, so a retried request creates nothing twice.
    """
    if state is None:
        return None
    if state.request_fingerprint != fingerprint:
        raise Conflict(
            "this Idempotency-Key was already used for a different order", order_id=str(state.id)
        )
    return state


def create(
    state: PaymentOrder | None,
    *,
    order_id: UUID,
    user_id: UUID,
    package: CoinPackage,
    provider: str,
    fingerprint: str,
    provider_order_id: str,
) -> list[Event]:
    if replayed_order(state, fingerprint) is not None:
        return []
    amount_minor, currency = order_price(package, provider)
    created = OrderCreated(
        **next_event_fields(order_id, 0),
        user_id=user_id,
        package_id=package.id,
        coins=package.coins,
        provider=provider,
        amount_minor=amount_minor,
        currency=currency,
        request_fingerprint=fingerprint,
        provider_order_id=provider_order_id,
    )
    return [created]


def mark_paid(
    state: PaymentOrder, *, provider_payment_id: str, amount_minor: int, currency: str
) -> PaymentDecision:
    """A capture grants the coins once; a capture that does not match the order is flagged."""
    if state.captured or state.flagged:
        return _decide(state, [])
    fields = next_event_fields(state.id, state.version)
    if amount_minor != state.amount_minor or currency.upper() != state.currency:
        flagged = OrderFlagged(
            **fields,
            reason="paid amount or currency differs from the order",
            provider_payment_id=provider_payment_id,
            expected_amount_minor=state.amount_minor,
            expected_currency=state.currency,
            received_amount_minor=amount_minor,
            received_currency=currency.upper(),
        )
        return _decide(state, [flagged])
    paid = OrderPaid(
        **fields,
        provider_payment_id=provider_payment_id,
        amount_minor=amount_minor,
        currency=state.currency,
    )
    return _decide(state, [paid])


def mark_failed(state: PaymentOrder, *, reason: str) -> PaymentDecision:
    """A failed attempt; the user may still pay the same order later, so nothing is final."""
    if state.captured or state.flagged or state.failure_reason == reason:
        return _decide(state, [])
    failed = OrderFailed(**next_event_fields(state.id, state.version), reason=reason)
    return _decide(state, [failed])


def mark_refunded(state: PaymentOrder, *, total_refunded_minor: int) -> PaymentDecision:
    """Only a larger running total is news: duplicates and older deliveries change nothing."""
    if total_refunded_minor <= state.total_refunded_minor:
        return _decide(state, [])
    refunded = OrderRefunded(
        **next_event_fields(state.id, state.version), total_refunded_minor=total_refunded_minor
    )
    return _decide(state, [refunded])


def mark_disputed(state: PaymentOrder) -> PaymentDecision:
    """A dispute takes every coin of the order back, whether it comes before or after capture."""
    if state.disputed:
        return _decide(state, [])
    return _decide(state, [OrderDisputed(**next_event_fields(state.id, state.version))])


def _decide(state: PaymentOrder, events: list[Event]) -> PaymentDecision:
    after = fold(evolve, events, state)
    assert after is not None
    change = after.coins_granted - state.coins_granted
    outcome = PaymentOutcome(credit_coins=max(change, 0), reverse_coins=max(-change, 0))
    return PaymentDecision(events=events, order=after, outcome=outcome)
