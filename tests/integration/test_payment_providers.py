"""The payment adapters through the real Razorpay and Stripe SDKs, against local fake servers."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from urllib.parse import parse_qsl

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stripe import WebhookSignature

from relivchats.adapters.payments import (
    EventKind,
    InvalidSignature,
    InvalidWebhook,
    PaymentProvider,
    ProviderRejected,
    ProviderUnavailable,
)
from relivchats.adapters.payments.razorpay import RazorpayProvider
from relivchats.adapters.payments.sandbox import SandboxProvider
from relivchats.adapters.payments.signing import (
    SimulatedPayment,
    razorpay_signature,
    signed_webhook,
)
from relivchats.adapters.payments.stripe import StripeProvider
from tests.fakes.razorpay_server import FakeRazorpay
from tests.fakes.stripe_server import FakeStripe

RAZORPAY_KEY_ID, RAZORPAY_KEY_SECRET = "rzp_test_fake", "fake_key_secret"
STRIPE_SECRET_KEY = "sk_test_fake"
WEBHOOK_SECRET = "whsec_test_local"
ORDER_ID = uuid.UUID("5f0c8d55-3f0e-4a1e-9d43-1c2b3a4d5e6f")


@pytest.fixture
def razorpay_server() -> Iterator[FakeRazorpay]:
    with FakeRazorpay(key_id=RAZORPAY_KEY_ID, key_secret=RAZORPAY_KEY_SECRET) as server:
        yield server


@pytest.fixture
def stripe_server() -> Iterator[FakeStripe]:
    with FakeStripe(secret_key=STRIPE_SECRET_KEY) as server:
        yield server


def razorpay(
    server: FakeRazorpay,
    *,
    secret: str = RAZORPAY_KEY_SECRET,
    timeout_s: float = 5.0,
    max_retries: int = 2,
) -> RazorpayProvider:
    return RazorpayProvider(
        key_id=RAZORPAY_KEY_ID,
        key_secret=secret,
        webhook_secret=WEBHOOK_SECRET,
        base_url=server.url,
        timeout_s=timeout_s,
        max_retries=max_retries,
        retry_backoff_s=0.01,
    )


def stripe(
    server: FakeStripe,
    *,
    secret: str = STRIPE_SECRET_KEY,
    timeout_s: float = 5.0,
    max_retries: int = 2,
) -> StripeProvider:
    return StripeProvider(
        secret_key=secret,
        webhook_secret=WEBHOOK_SECRET,
        base_url=server.url,
        timeout_s=timeout_s,
        max_retries=max_retries,
    )


def test_razorpay_order_is_created_in_paise(razorpay_server: FakeRazorpay) -> None:
    order = razorpay(razorpay_server).create_order(ORDER_ID, 79_900, "INR", {"package": "popular"})
    [request] = razorpay_server.requests
    assert request.headers["authorization"].startswith("Basic ")
    created = razorpay_server.orders[order.provider_order_id]
    assert (created["amount"], created["currency"], created["receipt"]) == (
        79_900,
        "INR",
        str(ORDER_ID),
    )
    assert created["notes"] == {"order_id": str(ORDER_ID), "package": "popular"}
    assert order.key_id == RAZORPAY_KEY_ID
    assert order.client_secret is None


def test_razorpay_5xx_is_unavailable_after_bounded_retries(razorpay_server: FakeRazorpay) -> None:
    razorpay_server.fail_next(10, status=503)
    with pytest.raises(ProviderUnavailable):
        razorpay(razorpay_server, max_retries=2).create_order(ORDER_ID, 39_900, "INR", {})
    assert len(razorpay_server.requests) == 3


def test_razorpay_retry_recovers_from_one_5xx(razorpay_server: FakeRazorpay) -> None:
    razorpay_server.fail_next(1, status=502, body=b"<html>bad gateway</html>")
    order = razorpay(razorpay_server).create_order(ORDER_ID, 39_900, "INR", {})
    assert order.provider_order_id in razorpay_server.orders
    assert len(razorpay_server.requests) == 2


def test_razorpay_timeout_is_unavailable(razorpay_server: FakeRazorpay) -> None:
    razorpay_server.delay_next(5, seconds=2.0)
    provider = razorpay(razorpay_server, timeout_s=0.2, max_retries=1)
    with pytest.raises(ProviderUnavailable):
        provider.create_order(ORDER_ID, 39_900, "INR", {})
    assert len(razorpay_server.requests) == 2


def test_razorpay_bad_credentials_are_rejected_without_retry(razorpay_server: FakeRazorpay) -> None:
    with pytest.raises(ProviderRejected, match="Authentication failed"):
        razorpay(razorpay_server, secret="wrong").create_order(ORDER_ID, 39_900, "INR", {})
    assert len(razorpay_server.requests) == 1


def test_razorpay_unreachable_is_unavailable(razorpay_server: FakeRazorpay) -> None:
    provider = razorpay(razorpay_server, max_retries=1)
    razorpay_server.stop()
    with pytest.raises(ProviderUnavailable):
        provider.create_order(ORDER_ID, 39_900, "INR", {})


def test_stripe_payment_intent_is_created_in_cents(stripe_server: FakeStripe) -> None:
    order = stripe(stripe_server).create_order(ORDER_ID, 999, "USD", {"package": "popular"})
    [request] = stripe_server.requests
    form = dict(parse_qsl(request.body.decode()))
    assert (form["amount"], form["currency"], form["metadata[order_id]"]) == (
        "999",
        "usd",
        str(ORDER_ID),
    )
    assert request.headers["idempotency-key"] == f"relivchats-order-{ORDER_ID}"
    assert order.client_secret == f"{order.provider_order_id}_secret_fake"
    assert order.key_id is None


def test_stripe_5xx_is_unavailable_after_bounded_retries(stripe_server: FakeStripe) -> None:
    stripe_server.fail_next(10, status=500)
    with pytest.raises(ProviderUnavailable):
        stripe(stripe_server, max_retries=2).create_order(ORDER_ID, 999, "USD", {})
    assert len(stripe_server.requests) == 3
    assert len({r.headers["idempotency-key"] for r in stripe_server.requests}) == 1


def test_stripe_retry_recovers_without_a_second_intent(stripe_server: FakeStripe) -> None:
    stripe_server.fail_next(1, status=503)
    provider = stripe(stripe_server, max_retries=1)
    first = provider.create_order(ORDER_ID, 999, "USD", {})
    again = provider.create_order(ORDER_ID, 999, "USD", {})
    assert first == again
    assert len(stripe_server.intents) == 1


def test_stripe_checkout_fetches_the_client_secret_again(stripe_server: FakeStripe) -> None:
    provider = stripe(stripe_server)
    created = provider.create_order(ORDER_ID, 999, "USD", {})
    assert provider.checkout(created.provider_order_id) == created
    assert stripe_server.requests[-1].method == "GET"


def test_razorpay_and_sandbox_checkout_need_no_network(razorpay_server: FakeRazorpay) -> None:
    provider = razorpay(razorpay_server)
    created = provider.create_order(ORDER_ID, 39_900, "INR", {})
    assert provider.checkout(created.provider_order_id) == created
    assert len(razorpay_server.requests) == 1
    for scheme in SCHEMES:
        sandbox = SandboxProvider(name=scheme, webhook_secret=WEBHOOK_SECRET)
        made = sandbox.create_order(ORDER_ID, 999, "USD", {})
        assert sandbox.checkout(made.provider_order_id) == made


def test_stripe_timeout_is_unavailable(stripe_server: FakeStripe) -> None:
    stripe_server.delay_next(5, seconds=2.0)
    with pytest.raises(ProviderUnavailable):
        stripe(stripe_server, timeout_s=0.2, max_retries=1).create_order(ORDER_ID, 999, "USD", {})
    assert len(stripe_server.requests) == 2


def test_stripe_rate_limit_is_unavailable(stripe_server: FakeStripe) -> None:
    stripe_server.fail_next(1, status=429)
    with pytest.raises(ProviderUnavailable):
        stripe(stripe_server, max_retries=0).create_order(ORDER_ID, 999, "USD", {})


def test_stripe_bad_key_is_rejected_without_retry(stripe_server: FakeStripe) -> None:
    with pytest.raises(ProviderRejected):
        stripe(stripe_server, secret="sk_test_wrong").create_order(ORDER_ID, 999, "USD", {})
    assert len(stripe_server.requests) == 1


SCHEMES = ["razorpay", "stripe"]
PAYMENT = SimulatedPayment(
    "order_or_pi_1", amount_minor=999, currency="USD", order_ref=str(ORDER_ID)
)


def webhook_parser(scheme: str, real: bool) -> PaymentProvider:
    """The real adapter (no network needed to parse) or the sandbox standing in for it."""
    if not real:
        return SandboxProvider(name=scheme, webhook_secret=WEBHOOK_SECRET)
    if scheme == "razorpay":
        return RazorpayProvider(key_id="k", key_secret="s", webhook_secret=WEBHOOK_SECRET)
    return StripeProvider(secret_key="sk_test_unused", webhook_secret=WEBHOOK_SECRET)


@pytest.fixture(params=[(s, real) for s in SCHEMES for real in (True, False)], ids=str)
def parser(request: pytest.FixtureRequest) -> tuple[str, PaymentProvider]:
    scheme, real = request.param
    return scheme, webhook_parser(scheme, real)


@pytest.mark.parametrize(
    "kind", [EventKind.CAPTURED, EventKind.FAILED, EventKind.REFUNDED, EventKind.DISPUTED]
)
def test_correctly_signed_webhook_is_read(
    parser: tuple[str, PaymentProvider], kind: EventKind
) -> None:
    scheme, provider = parser
    delivery = signed_webhook(scheme, kind, PAYMENT, secret=WEBHOOK_SECRET, event_id="evt_1")
    event = provider.parse_webhook(delivery.body, delivery.headers)
    assert (event.event_id, event.kind, event.provider_order_id) == ("evt_1", kind, "order_or_pi_1")
    if kind in (EventKind.CAPTURED, EventKind.REFUNDED):
        assert (event.amount_minor, event.currency) == (999, "USD")


def test_wrong_secret_is_an_invalid_signature(parser: tuple[str, PaymentProvider]) -> None:
    scheme, provider = parser
    delivery = signed_webhook(scheme, EventKind.CAPTURED, PAYMENT, secret="whsec_someone_else")
    with pytest.raises(InvalidSignature):
        provider.parse_webhook(delivery.body, delivery.headers)


def test_tampered_body_is_an_invalid_signature(parser: tuple[str, PaymentProvider]) -> None:
    scheme, provider = parser
    delivery = signed_webhook(scheme, EventKind.CAPTURED, PAYMENT, secret=WEBHOOK_SECRET)
    tampered = delivery.body.replace(b"999", b"1")
    with pytest.raises(InvalidSignature):
        provider.parse_webhook(tampered, delivery.headers)


def test_missing_signature_is_an_invalid_signature(parser: tuple[str, PaymentProvider]) -> None:
    scheme, provider = parser
    delivery = signed_webhook(scheme, EventKind.CAPTURED, PAYMENT, secret=WEBHOOK_SECRET)
    unsigned = {k: v for k, v in delivery.headers.items() if "ignature" not in k}
    with pytest.raises(InvalidSignature):
        provider.parse_webhook(delivery.body, unsigned)


def test_body_that_is_not_utf8_is_an_invalid_signature(parser: tuple[str, PaymentProvider]) -> None:
    scheme, provider = parser
    delivery = signed_webhook(scheme, EventKind.CAPTURED, PAYMENT, secret=WEBHOOK_SECRET)
    with pytest.raises(InvalidSignature):
        provider.parse_webhook(b"\xff\xfe" + delivery.body, delivery.headers)


@pytest.mark.parametrize(("age_s", "accepted"), [(200, True), (301, False), (3600, False)])
def test_stripe_signature_older_than_300_seconds_is_refused(age_s: int, accepted: bool) -> None:
    provider = webhook_parser("stripe", real=True)
    stamp = int(time.time()) - age_s
    delivery = signed_webhook(
        "stripe", EventKind.CAPTURED, PAYMENT, secret=WEBHOOK_SECRET, timestamp=stamp
    )
    if accepted:
        assert provider.parse_webhook(delivery.body, delivery.headers).kind is EventKind.CAPTURED
    else:
        with pytest.raises(InvalidSignature):
            provider.parse_webhook(delivery.body, delivery.headers)


def test_header_names_are_case_insensitive() -> None:
    delivery = signed_webhook(
        "razorpay", EventKind.CAPTURED, PAYMENT, secret=WEBHOOK_SECRET, event_id="e"
    )
    lowered = {k.lower(): v for k, v in delivery.headers.items()}
    assert (
        webhook_parser("razorpay", real=True).parse_webhook(delivery.body, lowered).event_id == "e"
    )


def test_razorpay_webhook_without_event_id_is_invalid() -> None:
    delivery = signed_webhook("razorpay", EventKind.CAPTURED, PAYMENT, secret=WEBHOOK_SECRET)
    headers = {k: v for k, v in delivery.headers.items() if k != "X-Razorpay-Event-Id"}
    with pytest.raises(InvalidWebhook):
        webhook_parser("razorpay", real=True).parse_webhook(delivery.body, headers)


def razorpay_signed_headers(body: bytes) -> dict[str, str]:
    signature = razorpay_signature(body, WEBHOOK_SECRET)
    return {"X-Razorpay-Signature": signature, "X-Razorpay-Event-Id": "evt_x"}


def stripe_signed_headers(body: bytes) -> dict[str, str]:
    signature = WebhookSignature.generate_signature_header(body.decode(), WEBHOOK_SECRET)
    return {"Stripe-Signature": signature}


SIGNERS = {"razorpay": razorpay_signed_headers, "stripe": stripe_signed_headers}


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b"{}"])
def test_signed_body_that_is_not_an_event_is_invalid(scheme: str, body: bytes) -> None:
    with pytest.raises(InvalidWebhook):
        webhook_parser(scheme, real=True).parse_webhook(body, SIGNERS[scheme](body))


def test_razorpay_order_paid_and_payment_captured_name_the_same_order() -> None:
    provider = webhook_parser("razorpay", real=True)
    events = [
        provider.parse_webhook(d.body, d.headers)
        for d in (
            signed_webhook("razorpay", EventKind.CAPTURED, PAYMENT, secret=WEBHOOK_SECRET),
            signed_webhook(
                "razorpay",
                EventKind.CAPTURED,
                PAYMENT,
                secret=WEBHOOK_SECRET,
                event_type="order.paid",
            ),
        )
    ]
    assert {
        (e.kind, e.provider_order_id, e.provider_payment_id, e.amount_minor) for e in events
    } == {(EventKind.CAPTURED, "order_or_pi_1", PAYMENT.payment_id("pay_"), 999)}


def test_refund_reports_the_running_refunded_total() -> None:
    partial = SimulatedPayment("pi_1", amount_minor=999, currency="USD", refunded_minor=300)
    for scheme in SCHEMES:
        delivery = signed_webhook(scheme, EventKind.REFUNDED, partial, secret=WEBHOOK_SECRET)
        event = webhook_parser(scheme, real=True).parse_webhook(delivery.body, delivery.headers)
        assert (event.kind, event.amount_minor, event.provider_order_id) == (
            EventKind.REFUNDED,
            300,
            "pi_1",
        )


def test_unhandled_event_type_is_unknown() -> None:
    delivery = signed_webhook(
        "stripe", EventKind.CAPTURED, PAYMENT, secret=WEBHOOK_SECRET, event_type="customer.created"
    )
    event = webhook_parser("stripe", real=True).parse_webhook(delivery.body, delivery.headers)
    assert event.kind is EventKind.UNKNOWN


def test_sandbox_orders_are_deterministic_and_local() -> None:
    for scheme in SCHEMES:
        sandbox = SandboxProvider(name=scheme, webhook_secret=WEBHOOK_SECRET)
        first = sandbox.create_order(ORDER_ID, 999, "USD", {})
        assert sandbox.create_order(ORDER_ID, 999, "USD", {}) == first
        assert first != sandbox.create_order(uuid.uuid4(), 999, "USD", {})


def test_non_ascii_signature_is_an_invalid_signature(parser: tuple[str, PaymentProvider]) -> None:
    scheme, provider = parser
    delivery = signed_webhook(scheme, EventKind.CAPTURED, PAYMENT, secret=WEBHOOK_SECRET)
    forged = {k: ("t=1,v1=é" if "ignature" in k else v) for k, v in delivery.headers.items()}
    with pytest.raises(InvalidSignature):
        provider.parse_webhook(delivery.body, forged)


def test_empty_razorpay_secret_verifies_nothing() -> None:
    provider = RazorpayProvider(key_id="k", key_secret="s", webhook_secret="")
    delivery = signed_webhook("razorpay", EventKind.CAPTURED, PAYMENT, secret="")
    with pytest.raises(InvalidSignature):
        provider.parse_webhook(delivery.body, delivery.headers)


@settings(max_examples=200, deadline=None)
@given(
    body=st.binary(max_size=300),
    signature=st.text(max_size=80),
    scheme=st.sampled_from(SCHEMES),
)
def test_garbage_deliveries_only_ever_fail_as_invalid_webhooks(
    body: bytes, signature: str, scheme: str
) -> None:
    headers = {
        "Stripe-Signature": signature,
        "X-Razorpay-Signature": signature,
        "X-Razorpay-Event-Id": "e",
    }
    with pytest.raises(InvalidWebhook):
        webhook_parser(scheme, real=True).parse_webhook(body, headers)
