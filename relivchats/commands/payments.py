"""Payment commands: create an order at the provider, and act on a verified webhook exactly once.

Both run in the event store's thread pool (`dispatch`), so the provider's HTTP call never runs
on the event loop. Each saves everything it decided together: the order with its provider-order
link, or a webhook's receipt with the order's transition and the coins.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Literal
from uuid import UUID

from relivchats.adapters.payments import PaymentProvider
from relivchats.commands.unit_of_work import UnitOfWork
from relivchats.domain import (
    payments,
    payments_rules,
    provider_links,
    provider_links_rules,
    webhooks,
    webhooks_rules,
)
from relivchats.domain.errors import AccountNotOpened
from relivchats.domain.events import Event
from relivchats.domain.packages import package_by_id
from relivchats.domain.payment_signals import PaymentSignal
from relivchats.domain.payments import OrderStatus, PaymentOrder

log = logging.getLogger(__name__)

# Concurrent deliveries of one order's events (a storm of 50 senders) collide on the receipt or
# the order; each collision is settled by one reload, so a few more attempts than usual suffice.
WEBHOOK_MIN_ATTEMPTS = 12
PAYABLE = (OrderStatus.CREATED, OrderStatus.FAILED)


@dataclass(frozen=True)
class PlacedOrder:
    order: PaymentOrder
    changed: bool  # False: the key's order again
    client_secret: str | None  # Stripe, while the order can still be paid
    key_id: str | None  # Razorpay
    position: int


def create_order(
    uow: UnitOfWork,
    provider: PaymentProvider,
    user_id: UUID,
    idempotency_key: str,
    package_id: str,
) -> PlacedOrder:
    order_id = payments.order_id_for(user_id, idempotency_key)
    fingerprint = payments.request_fingerprint(package_id, provider.name)
    existing = payments_rules.replayed_order(uow.load(order_id, payments.evolve), fingerprint)
    if existing is not None:
        return _replayed(uow, provider, existing)
    package = package_by_id(package_id)
    if not uow.account_exists(user_id):
        raise AccountNotOpened("no account yet: call POST /api/users/store first")
    amount_minor, currency = payments_rules.order_price(package, provider.name)
    checkout = provider.create_order(order_id, amount_minor, currency, {"package_id": package.id})
    uow.record(
        *payments_rules.create(
            None,
            order_id=order_id,
            user_id=user_id,
            package=package,
            provider=provider.name,
            fingerprint=fingerprint,
            provider_order_id=checkout.provider_order_id,
        ),
        *provider_links_rules.link(provider.name, checkout.provider_order_id, order_id),
    )
    position = uow.save().position
    order = uow.load(order_id, payments.evolve)
    assert order is not None
    return PlacedOrder(order, True, checkout.client_secret, checkout.key_id, position)


def _replayed(uow: UnitOfWork, provider: PaymentProvider, order: PaymentOrder) -> PlacedOrder:
    """The same key and body again: the same order, and what is needed to pay it if it still can."""
    client_secret = key_id = None
    if order.status in PAYABLE:
        checkout = provider.checkout(order.provider_order_id)
        client_secret, key_id = checkout.client_secret, checkout.key_id
    return PlacedOrder(order, False, client_secret, key_id, uow.save().position)


# unmatched: no order of ours; ignored: recorded, but nothing for the order to do (unknown type)
WebhookOutcome = Literal["applied", "duplicate", "unmatched", "ignored"]


@dataclass(frozen=True)
class WebhookDelivery:
    """A verified delivery: which provider sent it and what it says."""

    provider: str
    signal: PaymentSignal

    @cached_property
    def receipt_id(self) -> UUID:
        return webhooks.receipt_id_for(self.provider, self.signal.event_id)

    @cached_property
    def link_id(self) -> UUID | None:
        """The link to the order the delivery names (none: it names no provider order)."""
        provider_order_id = self.signal.provider_order_id
        if provider_order_id is None:
            return None
        return provider_links.link_id_for(self.provider, provider_order_id)

    @cached_property
    def named_order_id(self) -> UUID | None:
        """Our order id as the provider echoes it back, if it is one (a hint: the link decides)."""
        try:
            return UUID(self.signal.order_ref or "")
        except ValueError:
            return None


@dataclass(frozen=True)
class WebhookHandled:
    outcome: WebhookOutcome
    order_id: UUID | None
    order_status: OrderStatus | None
    position: int


def handle_webhook(uow: UnitOfWork, provider: str, signal: PaymentSignal) -> WebhookHandled:
    """Record the delivery and its effect together, once per provider event id."""
    uow.expect_collisions(WEBHOOK_MIN_ATTEMPTS)
    delivery = WebhookDelivery(provider, signal)
    decided = _decide_delivery(uow, delivery)
    return _answered(delivery, decided, uow.save().position)


def handle_webhooks(uow: UnitOfWork, deliveries: Sequence[WebhookDelivery]) -> list[WebhookHandled]:
    """Several deliveries decided one after the other in one unit, and saved in ONE append.

    Group commit: a burst costs two reads and one write, not four reads and a write each.
    Each delivery sees what the earlier ones recorded (a second delivery of one event is a
    duplicate, a second event of one order finds it moved), and the store checks every
    aggregate's version as for a single delivery: a conflict decides the whole batch again.
    """
    uow.expect_collisions(WEBHOOK_MIN_ATTEMPTS)
    _preload(uow, deliveries)
    decided = [_decide_delivery(uow, delivery) for delivery in deliveries]
    position = uow.save().position
    return [_answered(d, outcome, position) for d, outcome in zip(deliveries, decided, strict=True)]


@dataclass(frozen=True)
class _Decided:
    outcome: WebhookOutcome
    order: PaymentOrder | None = None


def _decide_delivery(uow: UnitOfWork, delivery: WebhookDelivery) -> _Decided:
    """Record the delivery's receipt and its effect on the order and the coins (not saved)."""
    signal = delivery.signal
    received = webhooks_rules.receive(
        uow.load(delivery.receipt_id, webhooks.evolve),
        provider=delivery.provider,
        provider_event_id=signal.event_id,
        event_type=signal.event_type,
        provider_order_id=signal.provider_order_id,
    )
    order = _linked_order(uow, delivery.link_id) if received else None
    if order is None:
        uow.record(*received)
        return _Decided("unmatched" if received else "duplicate")
    decision = payments_rules.apply_signal(order, signal)
    effects: list[Event] = list(decision.events)
    if decision.outcome.moves_coins:
        effects += payments_rules.move_coins(uow.account(order.user_id), decision)
    # The receipt goes last, so its position is the whole save's: a redelivery answers it.
    uow.record(*effects, *received)
    return _Decided("applied" if effects else "ignored", decision.order)


def _linked_order(uow: UnitOfWork, link_id: UUID | None) -> PaymentOrder | None:
    order_id = None if link_id is None else uow.load(link_id, provider_links.evolve)
    return None if order_id is None else uow.load(order_id, payments.evolve)


def _preload(uow: UnitOfWork, deliveries: Sequence[WebhookDelivery]) -> None:
    """Read what the deliveries need in two round trips: receipts, links and the orders their
    payloads name, then the orders the links name otherwise and the accounts of the buyers
    whose deliveries are new."""
    uow.preload(
        aggregate_id
        for d in deliveries
        for aggregate_id in (d.receipt_id, d.link_id, d.named_order_id)
        if aggregate_id is not None
    )
    new = [d for d in deliveries if uow.load(d.receipt_id, webhooks.evolve) is None]
    link_ids = {d.link_id for d in new if d.link_id is not None}
    linked = (uow.load(link_id, provider_links.evolve) for link_id in link_ids)
    order_ids = {order_id for order_id in linked if order_id is not None}
    uow.preload(order_ids)
    orders = [uow.load(order_id, payments.evolve) for order_id in order_ids]
    uow.preload((), accounts_of={order.user_id for order in orders if order is not None})


def _answered(delivery: WebhookDelivery, decided: _Decided, position: int) -> WebhookHandled:
    """The delivery's answer; an event for no order of ours (another integration on the same
    account, a deleted test order) is recorded so the provider stops retrying, and logged for
    an operator."""
    if decided.outcome == "unmatched":
        log.warning(
            "webhook for an unknown provider order",
            extra={
                "event_type": delivery.signal.event_type,
                "provider_order_id": delivery.signal.provider_order_id,
                "position": position,
            },
        )
    order = decided.order
    return WebhookHandled(
        decided.outcome,
        None if order is None else order.id,
        None if order is None else order.status,
        position,
    )
