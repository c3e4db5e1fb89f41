"""Payment providers (Razorpay, Stripe, and a keyless sandbox) behind one small protocol."""

from relivchats.adapters.payments.base import (
    EventKind,
    InvalidSignature,
    InvalidWebhook,
    PaymentProvider,
    PaymentProviderError,
    ProviderEvent,
    ProviderOrder,
    ProviderRejected,
    ProviderUnavailable,
)

__all__ = [
    "EventKind",
    "InvalidSignature",
    "InvalidWebhook",
    "PaymentProvider",
    "PaymentProviderError",
    "ProviderEvent",
    "ProviderOrder",
    "ProviderRejected",
    "ProviderUnavailable",
]
