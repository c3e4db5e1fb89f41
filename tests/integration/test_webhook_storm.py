"""Webhook storms through the HTTP API (quality.md R5, P7): many senders, one effect.

50 concurrent senders share 1,000 deliveries. The API runs in-process (httpx ASGI transport)
with its real thread pool and event store, so the deliveries really race for the same receipt,
order and account rows; the store's version check must leave exactly one effect.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter

import asyncpg
import pytest

from relivchats.adapters.payments import EventKind
from relivchats.adapters.payments.signing import SignedWebhook
from relivchats.domain.credits import CoinsPurchased, CoinsReversed, account_id_for
from relivchats.projections.registry import all_projections
from tests.helpers import eventually
from tests.payment_flows import balance, delivery, place_order, registered_buyer

pytestmark = pytest.mark.slow

SENDERS = 50
DELIVERIES = 1_000
BONUS = 50


async def storm(client, provider: str, deliveries: list[SignedWebhook]) -> list:
    """Send every delivery, SENDERS at a time; return each response's (status, outcome)."""
    queue: asyncio.Queue[SignedWebhook] = asyncio.Queue()
    for webhook in deliveries:
        queue.put_nowait(webhook)
    results: list[tuple[int, str | None]] = []

    async def sender() -> None:
        while not queue.empty():
            webhook = queue.get_nowait()
            response = await client.post(
                f"/api/payments/webhooks/{provider}", content=webhook.body, headers=webhook.headers
            )
            outcome = response.json().get("outcome") if response.status_code == 200 else None
            results.append((response.status_code, outcome))

    await asyncio.gather(*(sender() for _ in range(SENDERS)))
    return results


async def new_order(client, store, token_for, provider: str) -> dict:
    buyer = await registered_buyer(client, store, token_for(f"storm-{random.getrandbits(64)}"))
    placed = await place_order(client, buyer, provider, "popular")
    return {**placed.json(), "buyer": buyer}


def coin_events(store, order: dict) -> list:
    account = store.load(account_id_for(order["buyer"].user_id))
    return [e for e in account if isinstance(e, CoinsPurchased | CoinsReversed)]


async def ledger_balance(database_url: str, order: dict) -> int | None:
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetchval(
            "SELECT balance FROM credit_balances WHERE user_id = $1", order["buyer"].user_id
        )
    finally:
        await conn.close()


async def assert_ledger_shows(database_url: str, order: dict, expected: int) -> None:
    """The ledger read model agrees with the replay, where the ledger projection exists."""
    if "ledger" not in {projection.name for projection in all_projections()}:
        return

    async def caught_up() -> bool:
        return await ledger_balance(database_url, order) == expected

    await eventually(caught_up)


@pytest.mark.parametrize("provider", ["razorpay", "stripe"])
async def test_a_thousand_deliveries_of_one_capture_credit_once_with_no_5xx(
    client, store, projector, token_for, database_url, provider
):
    order = await new_order(client, store, token_for, provider)
    capture = delivery(order, EventKind.CAPTURED, event_id=f"evt_storm_{order['order_id']}")

    results = await storm(client, provider, [capture] * DELIVERIES)

    assert Counter(status for status, _ in results) == {200: DELIVERIES}
    assert Counter(outcome for _, outcome in results) == {"applied": 1, "duplicate": DELIVERIES - 1}
    assert [type(e) for e in coin_events(store, order)] == [CoinsPurchased]
    assert balance(store, order["buyer"].user_id) == BONUS + order["coins"]
    await assert_ledger_shows(database_url, order, BONUS + order["coins"])


async def test_a_storm_of_captures_and_refunds_in_any_order_ends_refunded_with_no_coins(
    client, store, projector, token_for, database_url
):
    order = await new_order(client, store, token_for, "razorpay")
    capture = delivery(order, EventKind.CAPTURED, event_id=f"evt_cap_{order['order_id']}")
    refund = delivery(order, EventKind.REFUNDED, event_id=f"evt_ref_{order['order_id']}")
    deliveries = [capture, refund] * (DELIVERIES // 2)
    random.shuffle(deliveries)

    results = await storm(client, "razorpay", deliveries)

    assert Counter(status for status, _ in results) == {200: DELIVERIES}
    assert Counter(outcome for _, outcome in results)["duplicate"] == DELIVERIES - 2
    # Created, then paid and refunded in whichever order they came.
    assert len(store.load(uuid.UUID(order["order_id"]))) == 3
    assert balance(store, order["buyer"].user_id) == BONUS
    credited = sum(e.coins for e in coin_events(store, order) if isinstance(e, CoinsPurchased))
    reversed_ = sum(e.coins for e in coin_events(store, order) if isinstance(e, CoinsReversed))
    assert credited == reversed_
    await assert_ledger_shows(database_url, order, BONUS)


async def test_distinct_events_for_one_order_all_land_with_no_5xx(client, store, token_for):
    """Different events racing on one order and account: each applies once, none is lost."""
    order = await new_order(client, store, token_for, "stripe")
    refunds = [
        delivery(order, EventKind.REFUNDED, refunded_minor=total) for total in range(1, SENDERS + 1)
    ]
    deliveries = [delivery(order, EventKind.CAPTURED), *refunds]

    results = await storm(client, "stripe", deliveries)

    assert Counter(status for status, _ in results) == {200: len(deliveries)}
    # The largest running total wins whatever the arrival order: ceil(850 * 50 / 999) = 43 back.
    owed_back = -(-order["coins"] * SENDERS // order["amount_minor"])
    assert balance(store, order["buyer"].user_id) == BONUS + order["coins"] - owed_back
