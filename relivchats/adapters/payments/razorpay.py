"""Razorpay through its official SDK: orders in paise, webhooks signed with an HMAC of the raw body.

The SDK retries only lost connections (and then prints to stdout), gives no timeout, and cannot
tell a 4xx from a 5xx in the exceptions it raises. So it is handed a `requests` session that owns
those three concerns: a default timeout, bounded retries of 5xx and network errors, and typed
errors raised before the SDK looks at the response.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from uuid import UUID

import razorpay
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from relivchats.adapters.payments.base import (
    EventKind,
    InvalidSignature,
    InvalidWebhook,
    ProviderEvent,
    ProviderOrder,
    ProviderRejected,
    ProviderUnavailable,
    decode_body,
    header,
    signature_header,
)

DEFAULT_BASE_URL = "https://api.razorpay.com"
RETRIED_STATUSES = (429, 500, 502, 503, 504)

CAPTURED_EVENTS = {"payment.captured", "order.paid"}


class GuardedSession(requests.Session):
    """A session with a timeout, bounded retries and typed errors, for an SDK that has none."""

    def __init__(self, timeout_s: float, max_retries: int, backoff_s: float) -> None:
        super().__init__()
        self.timeout_s = timeout_s
        retry = Retry(
            total=max_retries,
            status_forcelist=RETRIED_STATUSES,
            # Retrying an order creation at worst leaves an unpaid order at Razorpay, which
            # expires; giving up on a blip fails the user's purchase.
            allowed_methods=None,
            backoff_factor=backoff_s,
            raise_on_status=False,
            respect_retry_after_header=False,  # keep the total wait bounded by our own numbers
        )
        self.mount("https://", HTTPAdapter(max_retries=retry))
        self.mount("http://", HTTPAdapter(max_retries=retry))

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs.setdefault("timeout", self.timeout_s)
        try:
            response = super().request(method, url, **kwargs)
        except (
            requests.Timeout,
            requests.ConnectionError,
            requests.exceptions.RetryError,
        ) as error:
            raise ProviderUnavailable(f"razorpay unreachable: {type(error).__name__}") from error
        _raise_for_status(response)
        return response


def _raise_for_status(response: requests.Response) -> None:
    status = response.status_code
    if status in RETRIED_STATUSES or status >= 500:
        raise ProviderUnavailable(f"razorpay answered {status}")
    if status >= 400:
        raise ProviderRejected(f"razorpay refused the request ({status}): {_description(response)}")
    try:
        response.json()
    except ValueError as error:
        raise ProviderUnavailable("razorpay answered with a body that is not JSON") from error


def _description(response: requests.Response) -> str:
    try:
        return str(response.json()["error"]["description"])
    except (ValueError, KeyError, TypeError):
        return "no description"


class RazorpayProvider:
    name = "razorpay"

    def __init__(
        self,
        *,
        key_id: str,
        key_secret: str,
        webhook_secret: str,
        base_url: str = DEFAULT_BASE_URL,
        timeout_s: float = 10.0,
        max_retries: int = 2,
        retry_backoff_s: float = 0.25,
    ) -> None:
        self.key_id = key_id
        self.webhook_secret = webhook_secret
        session = GuardedSession(timeout_s, max_retries, retry_backoff_s)
        self.client = razorpay.Client(session=session, auth=(key_id, key_secret), base_url=base_url)

    def create_order(
        self, order_id: UUID, amount_minor: int, currency: str, metadata: Mapping[str, str]
    ) -> ProviderOrder:
        created = self.client.order.create(
            data={
                "amount": amount_minor,
                "currency": currency,
                "receipt": str(order_id),  # our order id: 36 characters, Razorpay allows 40
                "notes": {"order_id": str(order_id), **metadata},
            }
        )
        if not isinstance(created, dict) or not created.get("id"):
            raise ProviderUnavailable("razorpay order response has no id")
        return ProviderOrder(provider_order_id=str(created["id"]), key_id=self.key_id)

    def checkout(self, provider_order_id: str) -> ProviderOrder:
        return ProviderOrder(provider_order_id=provider_order_id, key_id=self.key_id)

    def parse_webhook(self, raw_body: bytes, headers: Mapping[str, str]) -> ProviderEvent:
        return parse_razorpay_webhook(raw_body, headers, self.webhook_secret)


def parse_razorpay_webhook(
    raw_body: bytes, headers: Mapping[str, str], webhook_secret: str
) -> ProviderEvent:
    """Verify `X-Razorpay-Signature` over the raw body, then read the event."""
    body = decode_body(raw_body)
    signature = signature_header(headers, "X-Razorpay-Signature")
    if not webhook_secret:
        raise InvalidSignature("no Razorpay webhook secret is configured")  # "" would sign anything
    try:
        razorpay.Utility().verify_webhook_signature(body, signature, webhook_secret)
    except razorpay.errors.SignatureVerificationError as error:
        raise InvalidSignature("razorpay signature does not match") from error
    event_id = header(headers, "x-razorpay-event-id")
    if not event_id:
        raise InvalidWebhook("missing x-razorpay-event-id")
    return _read_event(event_id, _json_object(body))


def _json_object(body: str) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except ValueError as error:
        raise InvalidWebhook("webhook body is not JSON") from error
    if not isinstance(document, dict):
        raise InvalidWebhook("webhook body is not a JSON object")
    return document


def _read_event(event_id: str, document: dict[str, Any]) -> ProviderEvent:
    event_type = document.get("event")
    if not isinstance(event_type, str) or not event_type:
        raise InvalidWebhook("razorpay webhook names no event")
    payment = _entity(document, "payment")
    order = _entity(document, "order")
    refund = _entity(document, "refund")
    event = ProviderEvent(
        event_id=event_id,
        kind=EventKind.UNKNOWN,
        event_type=event_type,
        provider_order_id=_str(order.get("id") or payment.get("order_id")),
        provider_payment_id=_str(payment.get("id") or refund.get("payment_id")),
        order_ref=_str(order.get("receipt") or _note(payment, "order_id")),
    )
    if event_type in CAPTURED_EVENTS:
        source = order if "amount_paid" in order else payment
        return replace(
            event,
            kind=EventKind.CAPTURED,
            amount_minor=_int(source.get("amount_paid", source.get("amount"))),
            currency=_currency(source),
        )
    if event_type == "payment.failed":
        reason = payment.get("error_description") or payment.get("error_code") or "payment failed"
        return replace(event, kind=EventKind.FAILED, failure_reason=str(reason))
    if event_type == "refund.processed":
        return replace(
            event,
            kind=EventKind.REFUNDED,
            amount_minor=_int(payment.get("amount_refunded", refund.get("amount"))),
            currency=_currency(refund) or _currency(payment),
        )
    if event_type == "payment.dispute.created":
        return replace(event, kind=EventKind.DISPUTED)
    return event


def _entity(document: dict[str, Any], name: str) -> dict[str, Any]:
    """`payload.<name>.entity`, or an empty dict when the event does not carry that entity."""
    wrapper = (document.get("payload") or {}).get(name) or {}
    entity = wrapper.get("entity") if isinstance(wrapper, dict) else None
    return entity if isinstance(entity, dict) else {}


def _note(entity: dict[str, Any], name: str) -> object:
    notes = entity.get("notes")  # Razorpay writes empty notes as [] rather than {}
    return notes.get(name) if isinstance(notes, dict) else None


def _str(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def _currency(entity: dict[str, Any]) -> str | None:
    currency = entity.get("currency")
    return currency.upper() if isinstance(currency, str) and currency else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
