"""Webhooks through the HTTP API: signatures first, then exactly-once coins per order.

Deliveries are signed like the providers sign them (`adapters/payments/signing.py`) with the
sandbox secret the session app verifies, so the real Razorpay and Stripe checks run.
"""

from __future__ import annotations

import time
import uuid

import pytest

from relivchats.adapters.payments import EventKind
from relivchats.domain import payments, provider_links, webhooks
from relivchats.domain.credits import CoinsPurchased, CoinsReversed, account_id_for
from tests.payment_flows import balance, deliver, delivery, place_order, registered_buyer

PROVIDERS = ["razorpay", "stripe"]
BONUS = 50
POPULAR = 850


@pytest.fixture(params=PROVIDERS)
async def order(request, client, store, token_for, subject) -> dict:
    buyer = await registered_buyer(client, store, token_for(subject))
    placed = await place_order(client, buyer, request.param, "popular")
    assert placed.status_code == 201
    return {**placed.json(), "buyer": buyer}


def coin_events(store, order: dict) -> list:
    account = store.load(account_id_for(order["buyer"].user_id))
    return [e for e in account if isinstance(e, CoinsPurchased | CoinsReversed)]


async def send(client, order: dict, kind: EventKind, **options):
    response = await deliver(client, order["provider"], delivery(order, kind, **options))
    assert response.status_code == 200, response.text
    return response.json()


async def test_capture_credits_the_package_coins(client, store, order):
    ack = await send(client, order, EventKind.CAPTURED)
    assert (ack["outcome"], ack["order_status"]) == ("applied", "paid")
    assert balance(store, order["buyer"].user_id) == BONUS + POPULAR


async def test_second_webhook_delivery_credits_nothing(client, store, order):
    first = await send(client, order, EventKind.CAPTURED, event_id="evt_same")
    again = await send(client, order, EventKind.CAPTURED, event_id="evt_same")
    assert (first["outcome"], again["outcome"]) == ("applied", "duplicate")
    assert again["position"] == first["position"]  # where the first delivery was recorded
    assert len(coin_events(store, order)) == 1


async def test_another_capture_event_for_a_paid_order_credits_nothing(client, store, order):
    # Razorpay sends both payment.captured and order.paid for one payment, with other event ids.
    await send(client, order, EventKind.CAPTURED)
    other = await send(client, order, EventKind.CAPTURED)
    assert other["outcome"] == "ignored"
    assert balance(store, order["buyer"].user_id) == BONUS + POPULAR


async def test_order_status_shows_the_capture(client, projector, order):
    ack = await send(client, order, EventKind.CAPTURED)
    url = f"/api/payments/orders/{order['order_id']}?min_position={ack['position']}"
    view = (await client.get(url, headers=order["buyer"].headers)).json()
    assert (view["status"], view["coins_granted"]) == ("paid", POPULAR)


async def test_refund_after_capture_takes_the_coins_back(client, store, order):
    await send(client, order, EventKind.CAPTURED)
    ack = await send(client, order, EventKind.REFUNDED)
    assert ack["order_status"] == "refunded"
    assert balance(store, order["buyer"].user_id) == BONUS


async def test_refund_before_capture_ends_refunded_with_zero_net_coins(client, store, order):
    refunded = await send(client, order, EventKind.REFUNDED)
    captured = await send(client, order, EventKind.CAPTURED)
    assert (refunded["order_status"], captured["order_status"]) == ("refunded", "refunded")
    assert balance(store, order["buyer"].user_id) == BONUS
    assert coin_events(store, order) == []


async def test_partial_refunds_take_coins_back_in_steps(client, store, order):
    await send(client, order, EventKind.CAPTURED)
    half = order["amount_minor"] // 2
    partly = await send(client, order, EventKind.REFUNDED, refunded_minor=half)
    await send(client, order, EventKind.REFUNDED, refunded_minor=half)  # a stale total again
    fully = await send(client, order, EventKind.REFUNDED)
    assert (partly["order_status"], fully["order_status"]) == ("partially_refunded", "refunded")
    reversed_coins = [e.coins for e in coin_events(store, order) if isinstance(e, CoinsReversed)]
    assert sum(reversed_coins) == POPULAR and len(reversed_coins) == 2
    assert balance(store, order["buyer"].user_id) == BONUS


@pytest.mark.parametrize("dispute_first", [False, True])
async def test_dispute_takes_every_coin_back(client, store, order, dispute_first):
    kinds = [EventKind.CAPTURED, EventKind.DISPUTED]
    for kind in reversed(kinds) if dispute_first else kinds:
        ack = await send(client, order, kind)
    assert ack["order_status"] == "disputed"
    assert balance(store, order["buyer"].user_id) == BONUS


async def test_amount_mismatch_flags_the_order_and_credits_nothing(client, store, order):
    ack = await send(client, order, EventKind.CAPTURED, amount_minor=order["amount_minor"] - 1)
    assert ack["order_status"] == "flagged"
    assert balance(store, order["buyer"].user_id) == BONUS
    [*_, flagged] = store.load(uuid.UUID(order["order_id"]))
    assert isinstance(flagged, payments.OrderFlagged)
    assert flagged.received_amount_minor == order["amount_minor"] - 1


async def test_currency_mismatch_flags_the_order(client, store, order):
    other = "USD" if order["currency"] == "INR" else "INR"
    ack = await send(client, order, EventKind.CAPTURED, currency=other)
    assert ack["order_status"] == "flagged"
    assert balance(store, order["buyer"].user_id) == BONUS


async def test_failed_payment_then_a_capture_credits_once(client, store, order):
    failed = await send(client, order, EventKind.FAILED)
    paid = await send(client, order, EventKind.CAPTURED)
    assert (failed["order_status"], paid["order_status"]) == ("failed", "paid")
    assert balance(store, order["buyer"].user_id) == BONUS + POPULAR


async def test_unknown_event_is_acknowledged_and_recorded_not_acted_on(client, store, order):
    event_type = {"razorpay": "payment.authorized", "stripe": "payment_intent.created"}
    webhook = delivery(
        order,
        EventKind.CAPTURED,
        event_id="evt_unknown_type",
        event_type=event_type[order["provider"]],
    )
    response = await deliver(client, order["provider"], webhook)
    assert (response.status_code, response.json()["outcome"]) == (200, "ignored")
    receipt = store.load(webhooks.receipt_id_for(order["provider"], "evt_unknown_type"))
    assert [e.event_type for e in receipt] == [event_type[order["provider"]]]
    assert len(store.load(uuid.UUID(order["order_id"]))) == 1  # still just OrderCreated


async def test_webhook_for_an_unknown_order_is_acknowledged_and_recorded(client, store, order):
    stranger = {**order, "provider_order_id": "order_not_ours_123"}
    response = await deliver(
        client, order["provider"], delivery(stranger, EventKind.CAPTURED, event_id="evt_stranger")
    )
    assert (response.status_code, response.json()["outcome"]) == (200, "unmatched")
    assert store.load(webhooks.receipt_id_for(order["provider"], "evt_stranger"))
    assert store.load(provider_links.link_id_for(order["provider"], "order_not_ours_123")) == []
    assert balance(store, order["buyer"].user_id) == BONUS


def _tampered(order: dict) -> tuple[bytes, dict]:
    webhook = delivery(order, EventKind.CAPTURED)
    body = webhook.body.replace(str(order["amount_minor"]).encode(), b"100", 1)
    return body, webhook.headers


def _wrong_secret(order: dict) -> tuple[bytes, dict]:
    webhook = delivery(order, EventKind.CAPTURED, secret="whsec_not_ours")
    return webhook.body, webhook.headers


def _unsigned(order: dict) -> tuple[bytes, dict]:
    webhook = delivery(order, EventKind.CAPTURED)
    return webhook.body, {"Content-Type": "application/json"}


@pytest.mark.parametrize("forge", [_tampered, _wrong_secret, _unsigned])
async def test_bad_signature_is_400_and_records_nothing(client, store, order, forge):
    body, headers = forge(order)
    head = store.head()
    response = await client.post(
        f"/api/payments/webhooks/{order['provider']}", content=body, headers=headers
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_webhook"
    assert store.head() == head
    assert balance(store, order["buyer"].user_id) == BONUS


@pytest.mark.parametrize("order", ["stripe"], indirect=True)  # only Stripe signs a timestamp
async def test_stale_stripe_timestamp_is_400_and_records_nothing(client, store, order):
    stale = delivery(order, EventKind.CAPTURED, timestamp=int(time.time()) - 301)
    head = store.head()
    response = await deliver(client, "stripe", stale)
    assert response.status_code == 400
    assert store.head() == head


async def test_webhook_for_the_other_provider_route_is_400(client, store, order):
    other = "stripe" if order["provider"] == "razorpay" else "razorpay"
    head = store.head()
    response = await deliver(client, other, delivery(order, EventKind.CAPTURED))
    assert response.status_code == 400
    assert store.head() == head
