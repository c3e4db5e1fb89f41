"""What a verified provider webhook says about a payment, and what it means for the order.

Providers speak their own languages (Razorpay's `payment.captured`, Stripe's
`payment_intent.succeeded`); each adapter translates its verified webhook into one
`PaymentSignal`, so the decision below is the domain's and knows no provider.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from relivchats.domain import payments
from relivchats.domain.payments import PaymentDecision, PaymentOrder, PaymentOutcome


class SignalKind(StrEnum):
    CAPTURED = "captured"
    FAILED = "failed"
    REFUNDED = "refunded"
    DISPUTED = "disputed"
    UNKNOWN = "unknown"  # an event type we subscribe to by accident: acknowledge, do nothing


@dataclass(frozen=True)
class PaymentSignal:
    """A verified webhook, reduced to what the payment order needs.

    For a refund, `amount_minor` is the running total refunded on the payment, not this refund's
    own amount: totals can be compared, so duplicated or reordered refunds are harmless.
    `order_ref` is our own order id when the provider echoes it back (metadata or notes).
    """

    event_id: str
    kind: SignalKind
    event_type: str
    provider_order_id: str | None = None
    provider_payment_id: str | None = None
    amount_minor: int | None = None
    currency: str | None = None
    failure_reason: str | None = None
    order_ref: str | None = None


def decide_payment(order: PaymentOrder, signal: PaymentSignal) -> PaymentDecision:
    """What a verified provider signal means for the order; unknown kinds change nothing."""
    match signal.kind:
        case SignalKind.CAPTURED:
            return payments.mark_paid(
                order,
                provider_payment_id=signal.provider_payment_id or signal.event_id,
                # A capture that names no amount cannot be checked: it is flagged, not credited.
                amount_minor=-1 if signal.amount_minor is None else signal.amount_minor,
                currency=signal.currency or "",
            )
        case SignalKind.FAILED:
            return payments.mark_failed(order, reason=signal.failure_reason or "payment failed")
        case SignalKind.REFUNDED if signal.amount_minor is not None:
            return payments.mark_refunded(order, total_refunded_minor=signal.amount_minor)
        case SignalKind.DISPUTED:
            return payments.mark_disputed(order)
    return PaymentDecision(events=[], order=order, outcome=PaymentOutcome())
