"""Webhooks decided in batches (group commit) on PostgreSQL: one append, the same outcomes.

A batch is several deliveries decided one after the other in one unit of work and saved in one
append. It must change nothing a delivery alone would get: a duplicate in the batch is a
duplicate, a second event of one order sees the first, one delivery's refusal fails no other,
and a burst of concurrent deliveries leaves every order and account exactly as one at a time.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import uuid
from collections import Counter

import psycopg
import pytest

from relivchats.adapters.payments import EventKind
from relivchats.commands.payments import WebhookDelivery, handle_webhooks
from relivchats.commands.unit_of_work import execute
from relivchats.domain import (
    credits,
    payments,
    webhooks,
)
from relivchats.domain.credits import CoinsPurchased, CoinsReversed
from relivchats.domain.payment_signals import PaymentSignal, SignalKind
from relivchats.domain.payments import OrderCreated, OrderPaid, OrderRefunded
from tests.payment_flows import (
    balance,
    deliver,
    delivery,
    place_order,
    registered_buyer,
    stored_order,
)

BONUS = 50
ORDERS_IN_BURST = 12
REDELIVERIES = 3  # each capture sent this many times, all at once


def signal(order: payments.PaymentOrder, kind: SignalKind, event: str) -> WebhookDelivery:
    """A delivery of the provider event named `event` for this order (unique to the order)."""
    event_id = f"evt_{event}_{order.id}"
    return WebhookDelivery(
        "razorpay",
        PaymentSignal(
            event_id,
            kind,
            f"payment.{kind}",
            order.provider_order_id,
            "pay_" + order.provider_order_id,
            order.amount_minor,  # a refund's total: all of it
            order.currency,
            order_ref=str(order.id),
        ),
    )


def coin_events(store, user_id: uuid.UUID) -> list[type]:
    return [
        type(e)
        for e in store.load(credits.account_id_for(user_id))
        if isinstance(e, CoinsPurchased | CoinsReversed)
    ]


def transactions_of(database_url: str, aggregate_ids: list[uuid.UUID]) -> list[tuple[int, int]]:
    """(transaction, last position) of every save that wrote to these aggregates."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT transaction_id::text::bigint, max(notification_id) FROM relivchats_events"
            " WHERE transaction_id IN (SELECT transaction_id FROM relivchats_events"
            "  WHERE originator_id = ANY(%s)) GROUP BY transaction_id",
            (aggregate_ids,),
        ).fetchall()
    return [(int(txid), int(last)) for txid, last in rows]


def test_one_batch_decides_each_delivery_as_alone_and_saves_them_in_one_append(store, database_url):
    a, b = stored_order(store), stored_order(store)
    stranger = dataclasses.replace(a, provider_order_id="order_not_ours")
    batch = [
        signal(a, SignalKind.CAPTURED, "capture"),
        signal(a, SignalKind.CAPTURED, "capture"),  # the same event again
        signal(b, SignalKind.CAPTURED, "capture"),
        signal(b, SignalKind.REFUNDED, "refund"),  # the same order, moved by the capture
        signal(a, SignalKind.CAPTURED, "order_paid"),  # another event of a paid order
        signal(stranger, SignalKind.CAPTURED, "stranger"),
    ]

    answers = execute(store, handle_webhooks, batch)

    assert [answer.outcome for answer in answers] == [
        "applied",
        "duplicate",
        "applied",
        "applied",
        "ignored",
        "unmatched",
    ]
    assert [type(e) for e in store.load(a.id)] == [OrderCreated, OrderPaid]
    assert [type(e) for e in store.load(b.id)] == [OrderCreated, OrderPaid, OrderRefunded]
    assert coin_events(store, a.user_id) == [CoinsPurchased]
    assert coin_events(store, b.user_id) == [CoinsPurchased, CoinsReversed]
    assert balance(store, a.user_id) == BONUS + a.coins
    assert balance(store, b.user_id) == BONUS
    receipts = {webhooks.receipt_id_for("razorpay", d.signal.event_id) for d in batch}
    assert all(len(store.load(receipt)) == 1 for receipt in receipts)
    # One save for the whole batch, and every delivery answered with its position.
    [(_, last_position)] = transactions_of(database_url, list(receipts))
    assert {answer.position for answer in answers} == {last_position}


async def test_a_refused_delivery_fails_no_other_delivery_of_its_batch(client, store):
    buyers = [stored_order(store), stored_order(store)]
    no_account = stored_order(store, with_account=False)
    captures = [capture_of(order) for order in (buyers[0], no_account, buyers[1])]

    responses = await asyncio.gather(*(deliver(client, "razorpay", c) for c in captures))

    assert [r.status_code for r in responses] == [200, 404, 200]
    assert responses[1].json()["error"]["code"] == "account_not_opened"
    for order in buyers:
        assert balance(store, order.user_id) == BONUS + order.coins
    assert [type(e) for e in store.load(no_account.id)] == [OrderCreated]


def capture_of(order: payments.PaymentOrder, event_id: str | None = None):
    as_placed = {
        "provider": "razorpay",
        "provider_order_id": order.provider_order_id,
        "amount_minor": order.amount_minor,
        "currency": order.currency,
        "order_id": str(order.id),
    }
    return delivery(as_placed, EventKind.CAPTURED, event_id=event_id)


@pytest.mark.parametrize("provider", ["razorpay", "stripe"])
async def test_a_burst_of_distinct_and_repeated_deliveries_leaves_each_order_paid_once(
    client, store, token_for, database_url, provider
):
    orders = []
    for _ in range(ORDERS_IN_BURST):
        buyer = await registered_buyer(client, store, token_for(f"burst-{uuid.uuid4()}"))
        placed = await place_order(client, buyer, provider, "popular")
        orders.append({**placed.json(), "buyer": buyer})
    deliveries = []
    for order in orders:
        # Razorpay sends payment.captured and order.paid for one payment: two events, one effect.
        capture = delivery(order, EventKind.CAPTURED, event_id=f"evt_cap_{order['order_id']}")
        paid_again = delivery(order, EventKind.CAPTURED, event_id=f"evt_paid_{order['order_id']}")
        deliveries += [capture] * REDELIVERIES + [paid_again]
    random.shuffle(deliveries)

    responses = await asyncio.gather(*(deliver(client, provider, d) for d in deliveries))

    assert Counter(r.status_code for r in responses) == {200: len(deliveries)}
    assert Counter(r.json()["outcome"] for r in responses) == {
        "applied": ORDERS_IN_BURST,
        "ignored": ORDERS_IN_BURST,
        "duplicate": ORDERS_IN_BURST * (REDELIVERIES - 1),
    }
    for order in orders:
        user_id = order["buyer"].user_id
        assert [type(e) for e in store.load(uuid.UUID(order["order_id"]))] == [
            OrderCreated,
            OrderPaid,
        ]
        assert coin_events(store, user_id) == [CoinsPurchased]
        assert balance(store, user_id) == BONUS + order["coins"]
    receipts = [
        webhooks.receipt_id_for(provider, f"evt_{kind}_{order['order_id']}")
        for order in orders
        for kind in ("cap", "paid")
    ]
    assert all(len(store.load(receipt)) == 1 for receipt in receipts)
    # Answers name the save that recorded them; a burst is decided in fewer saves than events.
    saves = transactions_of(database_url, receipts)
    assert {r.json()["position"] for r in responses} <= {last for _, last in saves}
    assert len(saves) < len(receipts)
