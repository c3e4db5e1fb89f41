"""What the application needs from a payment provider, and the typed ways a provider call fails.

Everything here is synchronous: the API calls providers through its thread pool. Amounts are
integers in minor units and currencies upper-case ISO 4217 codes, whatever the provider writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from relivchats.domain.payment_signals import PaymentSignal, SignalKind

# Adapters translate each verified webhook into the domain's provider-neutral signal.
EventKind = SignalKind
ProviderEvent = PaymentSignal


class PaymentProviderError(Exception):
    """A provider call or a webhook could not be used."""


class ProviderUnavailable(PaymentProviderError):
    """A 5xx, a timeout or a lost connection, after our bounded retries: try again later."""


class ProviderRejected(PaymentProviderError):
    """The provider refused the request (4xx): retrying the same request will not help."""


class InvalidWebhook(PaymentProviderError):
    """A webhook that must be answered 400 and must leave no trace."""


class InvalidSignature(InvalidWebhook):
    """The signature is missing, wrong, or (Stripe) its timestamp is outside the tolerance."""


@dataclass(frozen=True)
class ProviderOrder:
    """What the client app needs to pay: the provider's order id and its client-side fields."""

    provider_order_id: str
    client_secret: str | None = None  # Stripe: confirms the PaymentIntent in the browser/app
    key_id: str | None = None  # Razorpay: the public key id the checkout opens with


class PaymentProvider(Protocol):
    name: str  # "razorpay" or "stripe": the webhook route and the order's provider field

    def create_order(
        self, order_id: UUID, amount_minor: int, currency: str, metadata: Mapping[str, str]
    ) -> ProviderOrder: ...

    def checkout(self, provider_order_id: str) -> ProviderOrder:
        """What the client needs to pay an order created earlier (a retried create request)."""
        ...

    def parse_webhook(self, raw_body: bytes, headers: Mapping[str, str]) -> ProviderEvent:
        """Verify the signature before reading anything; raise InvalidSignature if it fails."""
        ...


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by case-insensitive name, from any mapping (HTTP frameworks differ on case)."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def signature_header(headers: Mapping[str, str], name: str) -> str:
    """The signature header, present and ASCII: HMAC comparison refuses anything else."""
    value = header(headers, name)
    if not value or not value.isascii():
        raise InvalidSignature(f"missing or malformed {name}")
    return value


def decode_body(raw_body: bytes) -> str:
    """Both providers sign the UTF-8 text of the body; bytes that are not UTF-8 were not signed."""
    try:
        return raw_body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidSignature("webhook body is not UTF-8") from error
