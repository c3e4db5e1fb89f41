"""What each payment command decides: creating an order, and what a provider's signal does.

Every transition is decided from the order's state alone, and the coins an order grants are a
pure function of that state (`PaymentOrder.coins_granted`). Each decision reports the change of
that number as a `PaymentOutcome`, and `move_coins` turns it into the credit account's events of
the same save: a purchase credited once per order, and reversals, one per step in which refunds
or a dispute take coins back (each keyed by the order's version after it, so steps never
collide). Because the number only depends on state, a refund that lands before its capture
leaves nothing to credit, and a duplicated capture changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from relivchats.domain import credits_rules
from relivchats.domain.credits import CreditAccount, CreditEvent, ReversalReason
from relivchats.domain.errors import Conflict, NotFound
from relivchats.domain.events import Event, deterministic_id, fold, next_event_fields
from relivchats.domain.packages import CoinPackage
from relivchats.domain.payment_signals import PaymentSignal, SignalKind
from relivchats.domain.payments import (
    OrderCreated,
    OrderDisputed,
    OrderFailed,
    OrderFlagged,
    OrderPaid,
    OrderRefunded,
    PaymentOrder,
    evolve,
)

# Each provider charges one currency: Razorpay INR (paise), Stripe USD (cents).
CURRENCY_BY_PROVIDER: dict[str, str] = {"razorpay": "INR", "stripe": "USD"}


def order_price(package: CoinPackage, provider: str) -> tuple[int, str]:
    """What `provider` charges for `package`: (amount in minor units, currency)."""
    currency = CURRENCY_BY_PROVIDER.get(provider)
    if currency is None:
        raise NotFound(f"no payment provider {provider!r}", provider=provider)
    return package.price_in(currency), currency


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


def apply_signal(order: PaymentOrder, signal: PaymentSignal) -> PaymentDecision:
    """What a verified provider signal means for the order; unknown kinds change nothing."""
    match signal.kind:
        case SignalKind.CAPTURED:
            return mark_paid(
                order,
                provider_payment_id=signal.provider_payment_id or signal.event_id,
                # A capture that names no amount cannot be checked: it is flagged, not credited.
                amount_minor=-1 if signal.amount_minor is None else signal.amount_minor,
                currency=signal.currency or "",
            )
        case SignalKind.FAILED:
            return mark_failed(order, reason=signal.failure_reason or "payment failed")
        case SignalKind.REFUNDED if signal.amount_minor is not None:
            return mark_refunded(order, total_refunded_minor=signal.amount_minor)
        case SignalKind.DISPUTED:
            return mark_disputed(order)
    return PaymentDecision(events=[], order=order, outcome=PaymentOutcome())


def move_coins(account: CreditAccount | None, decision: PaymentDecision) -> list[CreditEvent]:
    """The credit account's events for what the decision changed in the coins the order grants."""
    order, outcome = decision.order, decision.outcome
    if outcome.credit_coins:
        return credits_rules.purchase(account, order.id, outcome.credit_coins)
    if outcome.reverse_coins:
        reason: ReversalReason = "dispute" if order.disputed else "refund"
        step = deterministic_id("order-reversal", order.id, order.version)
        return credits_rules.reverse(account, order.id, outcome.reverse_coins, reason, step)
    return []
