"""Payment commands on the in-memory store with the keyless sandbox provider.

Orders are idempotent per key; each provider event acts once (its receipt), and what it means
for the order is the domain's decision on a provider-neutral signal.
"""

from __future__ import annotations

import uuid

import pytest

from relivchats.adapters.memory_eventstore import InMemoryEventStore
from relivchats.adapters.payments.sandbox import SandboxProvider
from relivchats.commands.payments import PlacedOrder, create_order, handle_webhook
from relivchats.commands.unit_of_work import execute
from relivchats.commands.users import register_user
from relivchats.domain import credits
from relivchats.domain.errors import AccountNotOpened, Conflict
from relivchats.domain.payment_signals import PaymentSignal, SignalKind
from relivchats.domain.payments import OrderStatus

PROVIDER = SandboxProvider(name="razorpay", webhook_secret="secret")


@pytest.fixture
def store() -> InMemoryEventStore:
    return InMemoryEventStore()


def placed(store: InMemoryEventStore, key: str = "k", package: str = "starter") -> PlacedOrder:
    user_id = execute(store, register_user, f"buyer-{uuid.uuid4()}").user.id
    return execute(store, create_order, PROVIDER, user_id, key, package)


def signal(order: PlacedOrder, kind: SignalKind, **fields: object) -> PaymentSignal:
    values: dict[str, object] = {
        "event_id": f"evt_{uuid.uuid4().hex}",
        "kind": kind,
        "event_type": f"payment.{kind.value}",
        "provider_order_id": order.order.provider_order_id,
        "provider_payment_id": "pay_1",
        "amount_minor": order.order.amount_minor,
        "currency": order.order.currency,
    }
    return PaymentSignal(**{**values, **fields})  # type: ignore[arg-type]


def balance(store: InMemoryEventStore, order: PlacedOrder) -> int:
    account = credits.replay(store.load(credits.account_id_for(order.order.user_id)))
    assert account is not None
    return account.balance


def test_an_order_is_created_once_per_key(store):
    first = placed(store)
    again = execute(store, create_order, PROVIDER, first.order.user_id, "k", "starter")

    assert (first.changed, again.changed) == (True, False)
    assert again.order == first.order
    assert again.key_id == first.key_id  # still payable: what the checkout needs, again
    assert again.position == store.head()


def test_the_key_reused_for_another_package_conflicts(store):
    first = placed(store)
    with pytest.raises(Conflict):
        execute(store, create_order, PROVIDER, first.order.user_id, "k", "pro")


def test_an_order_needs_an_opened_account(store):
    with pytest.raises(AccountNotOpened):
        execute(store, create_order, PROVIDER, uuid.uuid4(), "k", "starter")


def test_a_capture_credits_the_coins_once_however_often_it_is_delivered(store):
    order = placed(store)
    captured = signal(order, SignalKind.CAPTURED)

    applied = execute(store, handle_webhook, "razorpay", captured)
    redelivered = execute(store, handle_webhook, "razorpay", captured)
    another_capture = execute(store, handle_webhook, "razorpay", signal(order, SignalKind.CAPTURED))

    assert (applied.outcome, applied.order_status) == ("applied", OrderStatus.PAID)
    assert redelivered.outcome == "duplicate"
    assert another_capture.outcome == "ignored"  # recorded; the order was already paid
    assert balance(store, order) == 50 + 400


def test_a_refund_after_the_capture_takes_the_coins_back(store):
    order = placed(store)
    execute(store, handle_webhook, "razorpay", signal(order, SignalKind.CAPTURED))

    refunded = execute(store, handle_webhook, "razorpay", signal(order, SignalKind.REFUNDED))

    assert (refunded.outcome, refunded.order_status) == ("applied", OrderStatus.REFUNDED)
    assert balance(store, order) == 50


def test_a_failure_and_an_unknown_kind_move_no_coins(store):
    order = placed(store)

    failed = execute(store, handle_webhook, "razorpay", signal(order, SignalKind.FAILED))
    unknown = execute(store, handle_webhook, "razorpay", signal(order, SignalKind.UNKNOWN))

    assert (failed.outcome, failed.order_status) == ("applied", OrderStatus.FAILED)
    assert unknown.outcome == "ignored"
    assert balance(store, order) == 50


def test_an_event_for_no_order_of_ours_is_recorded_unmatched(store):
    order = placed(store)
    stray = signal(order, SignalKind.CAPTURED, provider_order_id="order_not_ours")

    first = execute(store, handle_webhook, "razorpay", stray)
    again = execute(store, handle_webhook, "razorpay", stray)

    assert (first.outcome, again.outcome) == ("unmatched", "duplicate")
    assert first.position == again.position


def test_a_capture_for_another_amount_is_flagged_not_credited(store):
    order = placed(store)
    short = signal(order, SignalKind.CAPTURED, amount_minor=1)

    flagged = execute(store, handle_webhook, "razorpay", short)

    assert flagged.order_status == OrderStatus.FLAGGED
    assert balance(store, order) == 50
