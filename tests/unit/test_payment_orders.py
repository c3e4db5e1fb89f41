"""PaymentOrder and WebhookReceipt: pure decisions, no database, no provider."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relivchats.adapters.eventstore import build_mapper
from relivchats.domain import payments, payments_rules, webhooks, webhooks_rules
from relivchats.domain.errors import Conflict, NotFound
from relivchats.domain.events import EVENT_CLASSES, Event, fold
from relivchats.domain.packages import PACKAGES, active_packages, package_by_id
from relivchats.domain.payments import OrderStatus, PaymentOrder
from relivchats.domain.payments_rules import (
    PaymentDecision,
    PaymentOutcome,
    mark_disputed,
    mark_failed,
    mark_paid,
    mark_refunded,
)

USER = uuid.UUID("00000000-0000-4000-8000-000000000001")
POPULAR = package_by_id("popular")  # 850 coins, 799.00 INR
PRICE = 79_900


def new_order(key: str = "key-1", provider: str = "razorpay") -> PaymentOrder:
    order_id = payments.order_id_for(USER, key)
    events = payments_rules.create(
        None,
        order_id=order_id,
        user_id=USER,
        package=POPULAR,
        provider=provider,
        fingerprint=payments.request_fingerprint("popular", provider),
        provider_order_id="order_abc",
    )
    order = payments.replay(events)
    assert order is not None
    return order


def capture(order: PaymentOrder, amount: int = PRICE, currency: str = "INR") -> PaymentDecision:
    return mark_paid(order, provider_payment_id="pay_1", amount_minor=amount, currency=currency)


def test_catalogue_matches_the_product_spec() -> None:
    prices = {p.id: (p.coins, p.price_inr_paise, p.price_usd_cents, p.popular) for p in PACKAGES}
    assert prices == {
        "starter": (400, 39_900, 499, False),
        "popular": (850, 79_900, 999, True),
        "pro": (1600, 149_900, 1799, False),
    }
    assert [p.id for p in active_packages()] == ["starter", "popular", "pro"]


def test_unknown_package_currency_or_provider_is_not_found() -> None:
    with pytest.raises(NotFound):
        package_by_id("platinum")
    with pytest.raises(NotFound):
        POPULAR.price_in("EUR")
    with pytest.raises(NotFound):
        payments_rules.order_price(POPULAR, "paypal")


def test_order_is_priced_in_the_provider_currency() -> None:
    assert payments_rules.order_price(POPULAR, "stripe") == (999, "USD")
    assert (new_order(provider="razorpay").amount_minor, new_order().currency) == (PRICE, "INR")
    stripe_order = new_order(provider="stripe")
    assert (stripe_order.amount_minor, stripe_order.currency) == (999, "USD")
    assert stripe_order.status is OrderStatus.CREATED


def test_same_key_and_body_names_the_same_order_and_records_nothing() -> None:
    order = new_order()
    assert order.id == payments.order_id_for(USER, "key-1")
    again = payments_rules.create(
        order,
        order_id=order.id,
        user_id=USER,
        package=POPULAR,
        provider="razorpay",
        fingerprint=payments.request_fingerprint("popular", "razorpay"),
        provider_order_id="order_other",
    )
    assert again == []
    assert payments_rules.replayed_order(order, order.request_fingerprint) == order


def test_same_key_with_a_different_body_conflicts() -> None:
    order = new_order()
    with pytest.raises(Conflict):
        payments_rules.replayed_order(order, payments.request_fingerprint("pro", "razorpay"))


def test_matching_capture_credits_the_package_coins() -> None:
    decision = capture(new_order())
    assert decision.outcome == PaymentOutcome(credit_coins=850)
    assert decision.order.status is OrderStatus.PAID
    assert decision.order.coins_granted == 850


def test_second_capture_credits_nothing() -> None:
    paid = capture(new_order()).order
    again = capture(paid)
    assert (again.events, again.outcome) == ([], PaymentOutcome())


@pytest.mark.parametrize(("amount", "currency"), [(PRICE - 1, "INR"), (PRICE, "USD")])
def test_mismatched_capture_is_flagged_and_grants_no_coins(amount: int, currency: str) -> None:
    decision = capture(new_order(), amount=amount, currency=currency)
    [flagged] = decision.events
    assert isinstance(flagged, payments.OrderFlagged)
    assert (flagged.expected_amount_minor, flagged.received_amount_minor) == (PRICE, amount)
    assert decision.outcome == PaymentOutcome()
    assert decision.order.status is OrderStatus.FLAGGED
    assert capture(decision.order).outcome == PaymentOutcome()


def test_currency_case_does_not_matter() -> None:
    assert capture(new_order(), currency="inr").outcome.credit_coins == 850


def test_refund_after_capture_reverses_the_coins() -> None:
    paid = capture(new_order()).order
    decision = mark_refunded(paid, total_refunded_minor=PRICE)
    assert decision.outcome == PaymentOutcome(reverse_coins=850)
    assert decision.order.status is OrderStatus.REFUNDED


def test_refund_before_capture_leaves_nothing_to_credit() -> None:
    refunded = mark_refunded(new_order(), total_refunded_minor=PRICE)
    assert refunded.outcome == PaymentOutcome()
    late_capture = capture(refunded.order)
    assert late_capture.outcome == PaymentOutcome()
    assert late_capture.order.status is OrderStatus.REFUNDED
    assert late_capture.order.coins_granted == 0


def test_partial_refund_reverses_the_refunded_share_rounded_up() -> None:
    paid = capture(new_order()).order
    third = mark_refunded(paid, total_refunded_minor=PRICE // 3)
    assert third.outcome == PaymentOutcome(reverse_coins=284)  # ceil(850 * 26633 / 79900)
    assert third.order.status is OrderStatus.PARTIALLY_REFUNDED
    rest = mark_refunded(third.order, total_refunded_minor=PRICE)
    assert rest.outcome == PaymentOutcome(reverse_coins=566)


def test_older_or_repeated_refund_totals_change_nothing() -> None:
    refunded = mark_refunded(capture(new_order()).order, total_refunded_minor=PRICE).order
    for total in (PRICE, PRICE // 2, 0):
        assert mark_refunded(refunded, total_refunded_minor=total).events == []


def test_dispute_takes_every_coin_back_once() -> None:
    disputed = mark_disputed(capture(new_order()).order)
    assert disputed.outcome == PaymentOutcome(reverse_coins=850)
    assert disputed.order.status is OrderStatus.DISPUTED
    assert mark_disputed(disputed.order).events == []
    assert capture(mark_disputed(new_order()).order).outcome == PaymentOutcome()


def test_failed_attempt_can_still_be_paid_later() -> None:
    failed = mark_failed(new_order(), reason="card declined")
    assert failed.order.status is OrderStatus.FAILED
    assert mark_failed(failed.order, reason="card declined").events == []
    assert capture(failed.order).outcome == PaymentOutcome(credit_coins=850)


def test_failure_after_capture_changes_nothing() -> None:
    paid = capture(new_order()).order
    assert mark_failed(paid, reason="late").events == []


def test_every_payment_event_has_a_unique_stable_topic() -> None:
    classes: list[type[Event]] = [
        payments.OrderCreated,
        payments.OrderPaid,
        payments.OrderFailed,
        payments.OrderRefunded,
        payments.OrderDisputed,
        payments.OrderFlagged,
        webhooks.WebhookReceived,
    ]
    for cls in classes:
        assert cls.TOPIC.startswith("payments.")
        assert cls.TOPIC.endswith(".v1")
        assert EVENT_CLASSES[cls.TOPIC] is cls


def test_webhook_redelivery_records_nothing() -> None:
    first = webhooks_rules.receive(
        None,
        provider="stripe",
        provider_event_id="evt_1",
        event_type="payment_intent.succeeded",
        provider_order_id="pi_1",
    )
    [received] = first
    assert received.originator_id == webhooks.receipt_id_for("stripe", "evt_1")
    receipt = webhooks.evolve(None, received)
    assert (receipt.provider, receipt.provider_order_id) == ("stripe", "pi_1")
    again = webhooks_rules.receive(
        receipt,
        provider="stripe",
        provider_event_id="evt_1",
        event_type="x",
        provider_order_id=None,
    )
    assert again == []


Delivery = Callable[[PaymentOrder], PaymentDecision]

DELIVERIES: dict[str, Delivery] = {
    "capture": capture,
    "capture_wrong_amount": lambda order: capture(order, amount=PRICE + 100),
    "failed": lambda order: mark_failed(order, reason="declined"),
    "partial_refund": lambda order: mark_refunded(order, total_refunded_minor=PRICE // 3),
    "full_refund": lambda order: mark_refunded(order, total_refunded_minor=PRICE),
    "dispute": mark_disputed,
}


@given(st.lists(st.sampled_from(sorted(DELIVERIES)), max_size=12))
def test_any_delivery_order_credits_at_most_once_and_nets_to_the_status(
    deliveries: list[str],
) -> None:
    order = initial = new_order()
    history: list[Event] = []
    credits: list[int] = []
    reversed_total = 0
    for name in deliveries:
        decision = DELIVERIES[name](order)
        history += decision.events
        order = decision.order
        if decision.outcome.credit_coins:
            credits.append(decision.outcome.credit_coins)
        reversed_total += decision.outcome.reverse_coins
    net = sum(credits) - reversed_total
    assert len(credits) <= 1
    assert net == order.coins_granted
    assert fold(payments.evolve, history, initial) == order
    expected_net = {
        OrderStatus.PAID: {850},
        OrderStatus.PARTIALLY_REFUNDED: set(range(850)),
    }.get(order.status, {0})
    assert net in expected_net


def test_payment_events_survive_the_event_store_mapper() -> None:
    order = new_order()
    events = payments_rules.create(
        None,
        order_id=order.id,
        user_id=USER,
        package=POPULAR,
        provider="razorpay",
        fingerprint=order.request_fingerprint,
        provider_order_id=order.provider_order_id,
    )
    for step in (capture, lambda o: mark_refunded(o, total_refunded_minor=1), mark_disputed):
        decision = step(order)
        events += decision.events
        order = decision.order
    events += capture(new_order(), amount=1).events + mark_failed(new_order(), reason="x").events
    events += webhooks_rules.receive(
        None, provider="razorpay", provider_event_id="e", event_type="t", provider_order_id=None
    )
    mapper = build_mapper()
    for event in events:
        stored = mapper.to_stored_event(event)
        assert stored.topic == type(event).TOPIC
        assert mapper.to_domain_event(stored) == event
