"""Correctly signed webhook deliveries, shaped like the providers' own, for a given order.

Used by the sandbox's `simulate-payment` command, by tests and by benchmarks, so that every one
of them goes through the real signature checks. Nothing here is needed to take real payments.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import stripe

from relivchats.adapters.payments.base import EventKind

RAZORPAY_EVENT_TYPES = {
    EventKind.CAPTURED: "payment.captured",
    EventKind.FAILED: "payment.failed",
    EventKind.REFUNDED: "refund.processed",
    EventKind.DISPUTED: "payment.dispute.created",
}
STRIPE_EVENT_TYPES = {
    EventKind.CAPTURED: "payment_intent.succeeded",
    EventKind.FAILED: "payment_intent.payment_failed",
    EventKind.REFUNDED: "charge.refunded",
    EventKind.DISPUTED: "charge.dispute.created",
}


@dataclass(frozen=True)
class SignedWebhook:
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class SimulatedPayment:
    """One order's payment, as a provider would describe it in its webhooks."""

    provider_order_id: str
    amount_minor: int
    currency: str
    order_ref: str | None = None  # our order id, echoed back in notes/metadata
    refunded_minor: int | None = None  # running refunded total; defaults to a full refund
    failure_reason: str = "Your card was declined."

    def payment_id(self, prefix: str) -> str:
        """The same order always gets the same payment id, across every event about it."""
        digest = hashlib.sha256(self.provider_order_id.encode()).hexdigest()
        return f"{prefix}{digest[:14]}"


def new_event_id(prefix: str = "evt_sim_") -> str:
    return f"{prefix}{uuid.uuid4().hex[:20]}"


def razorpay_signature(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def sign_razorpay(document: Mapping[str, Any], secret: str, event_id: str) -> SignedWebhook:
    body = json.dumps(document).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Razorpay-Signature": razorpay_signature(body, secret),
        "X-Razorpay-Event-Id": event_id,
    }
    return SignedWebhook(body=body, headers=headers)


def sign_stripe(
    document: Mapping[str, Any], secret: str, timestamp: int | None = None
) -> SignedWebhook:
    body = json.dumps(document).encode()
    signature = stripe.WebhookSignature.generate_signature_header(
        body.decode(), secret, timestamp=timestamp
    )
    return SignedWebhook(
        body=body, headers={"Content-Type": "application/json", "Stripe-Signature": signature}
    )


def signed_webhook(
    scheme: str,
    kind: EventKind,
    payment: SimulatedPayment,
    *,
    secret: str,
    event_id: str | None = None,
    event_type: str | None = None,
    timestamp: int | None = None,
) -> SignedWebhook:
    """A delivery of `kind` for `payment`, signed the way provider `scheme` signs it.

    Pass the same `event_id` again to simulate a redelivery; `timestamp` (Stripe) to simulate
    a stale or replayed delivery.
    """
    event_id = event_id or new_event_id()
    if scheme == "razorpay":
        event_type = event_type or RAZORPAY_EVENT_TYPES[kind]
        return sign_razorpay(razorpay_event(event_type, payment), secret, event_id)
    if scheme == "stripe":
        event_type = event_type or STRIPE_EVENT_TYPES[kind]
        return sign_stripe(stripe_event(event_type, payment, event_id), secret, timestamp)
    raise ValueError(f"unknown webhook scheme {scheme!r}")


def razorpay_event(event_type: str, payment: SimulatedPayment) -> dict[str, Any]:
    refunded = _refunded(payment) if event_type == "refund.processed" else 0
    payment_entity = {
        "id": payment.payment_id("pay_"),
        "entity": "payment",
        "amount": payment.amount_minor,
        "currency": payment.currency.upper(),
        "status": "failed" if event_type == "payment.failed" else "captured",
        "order_id": payment.provider_order_id,
        "amount_refunded": refunded,
        "notes": {"order_id": payment.order_ref} if payment.order_ref else [],
        "error_description": payment.failure_reason if event_type == "payment.failed" else None,
    }
    payload: dict[str, Any] = {"payment": {"entity": payment_entity}}
    if event_type == "order.paid":
        payload["order"] = {"entity": _razorpay_order(payment)}
    if event_type == "refund.processed":
        payload["refund"] = {"entity": _razorpay_refund(payment, refunded)}
    return {
        "entity": "event",
        "account_id": "acc_sandbox",
        "event": event_type,
        "contains": sorted(payload),
        "payload": payload,
        "created_at": int(time.time()),
    }


def _razorpay_order(payment: SimulatedPayment) -> dict[str, Any]:
    return {
        "id": payment.provider_order_id,
        "entity": "order",
        "amount": payment.amount_minor,
        "amount_paid": payment.amount_minor,
        "currency": payment.currency.upper(),
        "receipt": payment.order_ref,
        "status": "paid",
    }


def _razorpay_refund(payment: SimulatedPayment, refunded: int) -> dict[str, Any]:
    return {
        "id": payment.payment_id("rfnd_"),
        "entity": "refund",
        "amount": refunded,
        "currency": payment.currency.upper(),
        "payment_id": payment.payment_id("pay_"),
        "status": "processed",
    }


def stripe_event(event_type: str, payment: SimulatedPayment, event_id: str) -> dict[str, Any]:
    if event_type.startswith("payment_intent."):
        obj = _stripe_intent(event_type, payment)
    elif event_type == "charge.dispute.created":
        obj = _stripe_dispute(payment)
    else:
        obj = _stripe_charge(payment)
    return {
        "id": event_id,
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "type": event_type,
        "livemode": False,
        "data": {"object": obj},
    }


def _stripe_intent(event_type: str, payment: SimulatedPayment) -> dict[str, Any]:
    succeeded = event_type == "payment_intent.succeeded"
    failure = {"code": "card_declined", "message": payment.failure_reason}
    return {
        "id": payment.provider_order_id,
        "object": "payment_intent",
        "amount": payment.amount_minor,
        "amount_received": payment.amount_minor if succeeded else 0,
        "currency": payment.currency.lower(),
        "status": "succeeded" if succeeded else "requires_payment_method",
        "latest_charge": payment.payment_id("ch_"),
        "last_payment_error": None if succeeded else failure,
        "metadata": _stripe_metadata(payment),
    }


def _stripe_charge(payment: SimulatedPayment) -> dict[str, Any]:
    refunded = _refunded(payment)
    return {
        "id": payment.payment_id("ch_"),
        "object": "charge",
        "amount": payment.amount_minor,
        "amount_refunded": refunded,
        "refunded": refunded >= payment.amount_minor,
        "currency": payment.currency.lower(),
        "payment_intent": payment.provider_order_id,
        "metadata": _stripe_metadata(payment),
    }


def _stripe_dispute(payment: SimulatedPayment) -> dict[str, Any]:
    return {
        "id": payment.payment_id("dp_"),
        "object": "dispute",
        "amount": payment.amount_minor,
        "currency": payment.currency.lower(),
        "charge": payment.payment_id("ch_"),
        "payment_intent": payment.provider_order_id,
        "status": "needs_response",
        "metadata": {},
    }


def _stripe_metadata(payment: SimulatedPayment) -> dict[str, str]:
    return {"order_id": payment.order_ref} if payment.order_ref else {}


def _refunded(payment: SimulatedPayment) -> int:
    return payment.amount_minor if payment.refunded_minor is None else payment.refunded_minor
