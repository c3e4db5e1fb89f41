"""Payment commands: create an order at the provider, and act on a verified webhook exactly once.

Both run in the event store's thread pool (`AsyncEventStore.command`), so the provider's HTTP
call never runs on the event loop. Each appends everything it decided in ONE save: the order
with its provider-order link, or a webhook's receipt with the order's transition and the coins.
A version conflict means someone else got there first: reload and decide again.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal
from uuid import UUID

from relivchats.adapters.database import ReadPool
from relivchats.adapters.eventstore import AsyncEventStore, EventStore, first_event_position
from relivchats.adapters.payments import EventKind, PaymentProvider, ProviderEvent
from relivchats.commands.retry import with_retries
from relivchats.domain import credits, payments, provider_links, webhooks
from relivchats.domain.errors import AccountNotOpened
from relivchats.domain.events import Event
from relivchats.domain.packages import package_by_id
from relivchats.domain.payments import OrderStatus, PaymentDecision, PaymentOrder, PaymentOutcome
from relivchats.domain.purchases import coin_events

log = logging.getLogger(__name__)

# Concurrent deliveries of one order's events (a storm of 50 senders) collide on the receipt or
# the order; each collision is settled by one reload, so a few more attempts than usual suffice.
WEBHOOK_MIN_ATTEMPTS = 12
PAYABLE = (OrderStatus.CREATED, OrderStatus.FAILED)


@dataclass(frozen=True)
class PlacedOrder:
    order: PaymentOrder
    created: bool
    client_secret: str | None  # Stripe, while the order can still be paid
    key_id: str | None  # Razorpay
    position: int


def create_order(
    store: EventStore,
    provider: PaymentProvider,
    user_id: UUID,
    idempotency_key: str,
    package_id: str,
) -> PlacedOrder:
    order_id = payments.order_id_for(user_id, idempotency_key)
    fingerprint = payments.request_fingerprint(package_id, provider.name)

    def attempt() -> PlacedOrder:
        existing = payments.replayed_order(payments.replay(store.load(order_id)), fingerprint)
        if existing is not None:
            return _replayed(store, provider, existing)
        package = package_by_id(package_id)
        if not store.load(credits.account_id_for(user_id)):
            raise AccountNotOpened("no account yet: call POST /api/users/store first")
        amount_minor, currency = payments.order_price(package, provider.name)
        checkout = provider.create_order(
            order_id, amount_minor, currency, {"package_id": package.id}
        )
        created = payments.create(
            None,
            order_id=order_id,
            user_id=user_id,
            package=package,
            provider=provider.name,
            fingerprint=fingerprint,
            provider_order_id=checkout.provider_order_id,
        )
        linked = provider_links.link(provider.name, checkout.provider_order_id, order_id)
        position = store.append(*created, *linked)
        order = payments.replay(created)
        assert order is not None
        return PlacedOrder(order, True, checkout.client_secret, checkout.key_id, position)

    return with_retries(store, attempt)


def _replayed(store: EventStore, provider: PaymentProvider, order: PaymentOrder) -> PlacedOrder:
    """The same key and body again: the same order, and what is needed to pay it if it still can."""
    client_secret = key_id = None
    if order.status in PAYABLE:
        checkout = provider.checkout(order.provider_order_id)
        client_secret, key_id = checkout.client_secret, checkout.key_id
    return PlacedOrder(order, False, client_secret, key_id, store.head())


# unmatched: no order of ours; ignored: recorded, but nothing for the order to do (unknown type)
WebhookOutcome = Literal["applied", "duplicate", "unmatched", "ignored"]


@dataclass(frozen=True)
class WebhookHandled:
    outcome: WebhookOutcome
    order_id: UUID | None
    order_status: OrderStatus | None
    position: int


class RecordedReceipts:
    """Webhook receipts this process knows to be recorded, with their positions (bounded LRU).

    Only presence is remembered, and a recorded event is never removed, so a hit is always
    right; a miss asks the database. It keeps a storm of redeliveries off the database.
    """

    def __init__(self, capacity: int = 100_000) -> None:
        self.capacity = capacity
        self._positions: OrderedDict[UUID, int] = OrderedDict()

    def position(self, receipt_id: UUID) -> int | None:
        position = self._positions.get(receipt_id)
        if position is not None:
            self._positions.move_to_end(receipt_id)
        return position

    def remember(self, receipt_id: UUID, position: int) -> None:
        self._positions[receipt_id] = position
        self._positions.move_to_end(receipt_id)
        if len(self._positions) > self.capacity:
            self._positions.popitem(last=False)


async def acknowledge_webhook(
    store: AsyncEventStore,
    db: ReadPool,
    receipts: RecordedReceipts,
    provider: str,
    event: ProviderEvent,
) -> WebhookHandled:
    """A redelivery finds its receipt on the event loop and is answered at once; anything else
    is decided in the store's thread pool (which checks again: two first deliveries can race)."""
    receipt_id = webhooks.receipt_id_for(provider, event.event_id)
    recorded_at = receipts.position(receipt_id)
    if recorded_at is None:
        async with db.connection() as conn:
            recorded_at = await first_event_position(conn, receipt_id)
    if recorded_at is not None:
        receipts.remember(receipt_id, recorded_at)
        return WebhookHandled("duplicate", None, None, recorded_at)
    handled = await store.command(handle_webhook, provider, event)
    if handled.outcome != "duplicate":  # a duplicate found in the pool answers the head instead
        receipts.remember(receipt_id, handled.position)
    return handled


def handle_webhook(store: EventStore, provider: str, event: ProviderEvent) -> WebhookHandled:
    """Record the delivery and its effect together, once per provider event id."""
    receipt_id = webhooks.receipt_id_for(provider, event.event_id)

    def attempt() -> WebhookHandled:
        if store.load(receipt_id):
            return WebhookHandled("duplicate", None, None, store.head())
        received = webhooks.receive_webhook(
            None,
            provider=provider,
            provider_event_id=event.event_id,
            event_type=event.event_type,
            provider_order_id=event.provider_order_id,
        )
        order = _linked_order(store, provider, event.provider_order_id)
        if order is None:
            return _unmatched(store, received, event)
        decision = decide(order, event)
        account = credits.replay(store.load(credits.account_id_for(order.user_id)))
        effects: list[Event] = [*decision.events, *coin_events(account, decision)]
        # The receipt goes last, so its position is the whole save's: a redelivery answers it.
        position = store.append(*effects, *received)
        outcome: WebhookOutcome = "applied" if effects else "ignored"
        return WebhookHandled(outcome, order.id, decision.order.status, position)

    return with_retries(store, attempt, at_least=WEBHOOK_MIN_ATTEMPTS)


def _linked_order(
    store: EventStore, provider: str, provider_order_id: str | None
) -> PaymentOrder | None:
    if provider_order_id is None:
        return None
    link_id = provider_links.link_id_for(provider, provider_order_id)
    order_id = provider_links.linked_order_id(store.load(link_id))
    return None if order_id is None else payments.replay(store.load(order_id))


def _unmatched(store: EventStore, received: list[Event], event: ProviderEvent) -> WebhookHandled:
    """Not an order of ours (another integration on the same account, or a deleted test order):
    acknowledged and recorded so the provider stops retrying, and logged for an operator."""
    position = store.append(*received)
    log.warning(
        "webhook for an unknown provider order",
        extra={
            "event_type": event.event_type,
            "provider_order_id": event.provider_order_id,
            "position": position,
        },
    )
    return WebhookHandled("unmatched", None, None, position)


def decide(order: PaymentOrder, event: ProviderEvent) -> PaymentDecision:
    """What a verified provider event means for the order; unknown kinds change nothing."""
    match event.kind:
        case EventKind.CAPTURED:
            return payments.mark_paid(
                order,
                provider_payment_id=event.provider_payment_id or event.event_id,
                # A capture that names no amount cannot be checked: it is flagged, not credited.
                amount_minor=-1 if event.amount_minor is None else event.amount_minor,
                currency=event.currency or "",
            )
        case EventKind.FAILED:
            return payments.mark_failed(order, reason=event.failure_reason or "payment failed")
        case EventKind.REFUNDED if event.amount_minor is not None:
            return payments.mark_refunded(order, total_refunded_minor=event.amount_minor)
        case EventKind.DISPUTED:
            return payments.mark_disputed(order)
    return PaymentDecision(events=[], order=order, outcome=PaymentOutcome())
