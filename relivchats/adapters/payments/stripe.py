"""Stripe through its official SDK: PaymentIntents in cents, webhooks signed `t=...,v1=...`.

The PaymentIntent is the provider order: its id is `provider_order_id` and it carries our order
id in its metadata. Charge and dispute events name their PaymentIntent, which is how they find
the order. The SDK's own retries (`max_network_retries`) cover 5xx, 409 and network errors, and
every PaymentIntent is created with an idempotency key derived from our order id, so a retried
request can never create a second intent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

import stripe

from relivchats.adapters.payments.base import (
    EventKind,
    InvalidSignature,
    InvalidWebhook,
    ProviderEvent,
    ProviderOrder,
    ProviderRejected,
    ProviderUnavailable,
    decode_body,
    signature_header,
)

DEFAULT_BASE_URL = "https://api.stripe.com"
SIGNATURE_TOLERANCE_S = 300

KIND_BY_EVENT_TYPE = {
    "payment_intent.succeeded": EventKind.CAPTURED,
    "payment_intent.payment_failed": EventKind.FAILED,
    "charge.refunded": EventKind.REFUNDED,
    "charge.dispute.created": EventKind.DISPUTED,
}


class StripeProvider:
    name = "stripe"

    def __init__(
        self,
        *,
        secret_key: str,
        webhook_secret: str,
        base_url: str = DEFAULT_BASE_URL,
        timeout_s: float = 10.0,
        max_retries: int = 2,
    ) -> None:
        self.webhook_secret = webhook_secret
        self.client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": base_url},
            max_network_retries=max_retries,
            http_client=stripe.RequestsClient(timeout=timeout_s),
        )

    def create_order(
        self, order_id: UUID, amount_minor: int, currency: str, metadata: Mapping[str, str]
    ) -> ProviderOrder:
        params: Any = {
            "amount": amount_minor,
            "currency": currency.lower(),
            "metadata": {**metadata, "order_id": str(order_id)},
            "automatic_payment_methods": {"enabled": True},
        }
        options: Any = {"idempotency_key": f"relivchats-order-{order_id}"}
        try:
            intent = self.client.v1.payment_intents.create(params=params, options=options)
        except stripe.StripeError as error:
            raise _typed(error) from error
        return ProviderOrder(provider_order_id=intent.id, client_secret=intent.client_secret)

    def checkout(self, provider_order_id: str) -> ProviderOrder:
        """The intent's client secret is fetched again rather than stored: Stripe asks that it
        be kept by nobody but the customer."""
        try:
            intent = self.client.v1.payment_intents.retrieve(provider_order_id)
        except stripe.StripeError as error:
            raise _typed(error) from error
        return ProviderOrder(provider_order_id=intent.id, client_secret=intent.client_secret)

    def parse_webhook(self, raw_body: bytes, headers: Mapping[str, str]) -> ProviderEvent:
        return parse_stripe_webhook(raw_body, headers, self.webhook_secret)


def _typed(error: stripe.StripeError) -> Exception:
    status = error.http_status
    # A rate limit is a 4xx that a later attempt may pass: unavailable, not rejected.
    transient = (stripe.APIConnectionError, stripe.RateLimitError)
    if isinstance(error, transient) or status is None or status >= 500:
        return ProviderUnavailable(f"stripe unavailable: {type(error).__name__} ({status})")
    return ProviderRejected(f"stripe refused the request ({status}): {error.user_message}")


def parse_stripe_webhook(
    raw_body: bytes, headers: Mapping[str, str], webhook_secret: str
) -> ProviderEvent:
    """Verify `Stripe-Signature` (HMAC of `t.body`, 300 s tolerance), then read the event."""
    body = decode_body(raw_body)
    try:
        event = stripe.Webhook.construct_event(
            body,
            signature_header(headers, "Stripe-Signature"),
            webhook_secret,
            SIGNATURE_TOLERANCE_S,
        )
    except stripe.SignatureVerificationError as error:
        raise InvalidSignature("stripe signature does not verify") from error
    except (ValueError, TypeError, AttributeError) as error:  # signed, but not a Stripe event
        raise InvalidWebhook("webhook body is not a Stripe event") from error
    return _read_event(event.to_dict())


def _read_event(document: dict[str, Any]) -> ProviderEvent:
    event_id = document.get("id")
    if not isinstance(event_id, str) or not event_id:
        raise InvalidWebhook("stripe event has no id")
    event_type = str(document.get("type", ""))
    obj = (document.get("data") or {}).get("object") or {}
    kind = KIND_BY_EVENT_TYPE.get(event_type, EventKind.UNKNOWN)
    is_intent = obj.get("object") == "payment_intent"
    return ProviderEvent(
        event_id=event_id,
        kind=kind,
        event_type=event_type,
        provider_order_id=_str(obj.get("id") if is_intent else obj.get("payment_intent")),
        provider_payment_id=_payment_id(obj),
        amount_minor=_amount(kind, obj),
        currency=obj["currency"].upper() if isinstance(obj.get("currency"), str) else None,
        failure_reason=_failure_reason(obj) if kind is EventKind.FAILED else None,
        order_ref=_str((obj.get("metadata") or {}).get("order_id")),
    )


def _payment_id(obj: dict[str, Any]) -> str | None:
    """The charge: an intent's latest charge, a charge itself, or the charge a dispute is about."""
    match obj.get("object"):
        case "payment_intent":
            return _str(obj.get("latest_charge")) or _str(obj.get("id"))
        case "charge":
            return _str(obj.get("id"))
        case _:
            return _str(obj.get("charge"))


def _amount(kind: EventKind, obj: dict[str, Any]) -> int | None:
    """Captured: what was received. Refunded: the charge's running refunded total."""
    field = {EventKind.CAPTURED: "amount_received", EventKind.REFUNDED: "amount_refunded"}.get(
        kind, "amount"
    )
    value = obj.get(field)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _failure_reason(obj: dict[str, Any]) -> str:
    error = obj.get("last_payment_error") or {}
    return str(error.get("message") or error.get("code") or "payment failed")


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
