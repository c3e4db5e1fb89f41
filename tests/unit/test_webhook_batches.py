"""Webhook batches on the in-memory store: deliveries that wait together are saved together.

What a batch must never change (outcomes, exactly-once coins) is tested on PostgreSQL in
tests/integration/test_webhook_batches.py; here, how deliveries are grouped and what happens to
a batch that one delivery makes fail.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

from relivchats.adapters.eventstore import AsyncEventStore
from relivchats.adapters.memory_eventstore import InMemoryEventStore
from relivchats.api.webhooks import WebhookBatches
from relivchats.commands.payments import WebhookDelivery
from relivchats.domain import credits, payments
from relivchats.domain.errors import AccountNotOpened
from relivchats.domain.payment_signals import PaymentSignal, SignalKind
from tests.payment_flows import stored_order


@pytest.fixture
async def store():
    memory = InMemoryEventStore()
    threads = AsyncEventStore(memory, threads=2)  # type: ignore[arg-type]
    yield threads
    threads.close()


def capture(order: payments.PaymentOrder) -> WebhookDelivery:
    return WebhookDelivery(
        "razorpay",
        PaymentSignal(
            f"evt_{uuid.uuid4().hex}",
            SignalKind.CAPTURED,
            "payment.captured",
            order.provider_order_id,
            "pay_1",
            order.amount_minor,
            order.currency,
        ),
    )


def coins(memory: InMemoryEventStore, order: payments.PaymentOrder) -> int:
    account = credits.replay(memory.load(credits.account_id_for(order.user_id)))
    assert account is not None
    return account.balance


async def test_deliveries_that_arrive_together_are_saved_in_one_append(store):
    memory = store.store
    orders = [stored_order(memory) for _ in range(10)]
    appends_before = memory.appends
    batches = WebhookBatches(store)

    answers = await asyncio.gather(*(batches.handle(capture(order)) for order in orders))

    assert [answer.outcome for answer in answers] == ["applied"] * len(orders)
    assert memory.appends - appends_before == 1
    assert {answer.position for answer in answers} == {memory.head()}
    assert all(coins(memory, order) == 50 + order.coins for order in orders)


async def test_a_batch_one_delivery_fails_is_decided_again_one_delivery_at_a_time(store):
    memory = store.store
    paying, broke = stored_order(memory), stored_order(memory, with_account=False)
    appends_before = memory.appends
    batches = WebhookBatches(store)

    answers = await asyncio.gather(
        batches.handle(capture(paying)), batches.handle(capture(broke)), return_exceptions=True
    )

    assert answers[0].outcome == "applied"
    assert isinstance(answers[1], AccountNotOpened)
    assert memory.appends - appends_before == 1  # the batch saved nothing; the payer alone
    assert coins(memory, paying) == 50 + paying.coins


async def test_a_delivery_after_a_batch_ended_starts_a_batch_of_its_own(store):
    memory = store.store
    batches = WebhookBatches(store, at_once=1)
    first, second = stored_order(memory), stored_order(memory)

    await batches.handle(capture(first))
    answer = await batches.handle(capture(second))

    assert answer.outcome == "applied"
