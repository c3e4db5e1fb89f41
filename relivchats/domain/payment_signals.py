"""What a verified provider webhook says about a payment, in the domain's own words.

Providers speak their own languages (Razorpay's `payment.captured`, Stripe's
`payment_intent.succeeded`); each adapter translates its verified webhook into one
`PaymentSignal`, so the decision (`payments_rules.apply_signal`) is the domain's and knows no
provider.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


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
