"""Payment commands: create an order at the provider, and act on a verified webhook exactly once.

Both run in the event store's thread pool (`dispatch`), so the provider's HTTP call never runs
on the event loop. Each saves everything it decided together: the order with its provider-order
link, or a webhook's receipt with the order's transition and the coins.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
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
class WebhookHandled:
    outcome: WebhookOutcome
    order_id: UUID | None
    order_status: OrderStatus | None
    position: int


def handle_webhook(uow: UnitOfWork, provider: str, signal: PaymentSignal) -> WebhookHandled:
    """Record the delivery and its effect together, once per provider event id."""
    uow.expect_collisions(WEBHOOK_MIN_ATTEMPTS)
    receipt_id = webhooks.receipt_id_for(provider, signal.event_id)
    received = webhooks_rules.receive(
        uow.load(receipt_id, webhooks.evolve),
        provider=provider,
        provider_event_id=signal.event_id,
        event_type=signal.event_type,
        provider_order_id=signal.provider_order_id,
    )
    order = _linked_order(uow, provider, signal.provider_order_id) if received else None
    if order is None:
        return _receipt_only(uow, received, signal)
    decision = payments_rules.apply_signal(order, signal)
    effects: list[Event] = list(decision.events)
    if decision.outcome.moves_coins:
        effects += payments_rules.move_coins(uow.account(order.user_id), decision)
    # The receipt goes last, so its position is the whole save's: a redelivery answers it.
    uow.record(*effects, *received)
    position = uow.save().position
    outcome: WebhookOutcome = "applied" if effects else "ignored"
    return WebhookHandled(outcome, order.id, decision.order.status, position)


def _linked_order(
    uow: UnitOfWork, provider: str, provider_order_id: str | None
) -> PaymentOrder | None:
    if provider_order_id is None:
        return None
    link_id = provider_links.link_id_for(provider, provider_order_id)
    order_id = uow.load(link_id, provider_links.evolve)
    return None if order_id is None else uow.load(order_id, payments.evolve)


def _receipt_only(uow: UnitOfWork, received: list[Event], signal: PaymentSignal) -> WebhookHandled:
    """A redelivery records nothing. An event for no order of ours (another integration on the
    same account, a deleted test order) is recorded so the provider stops retrying, and logged
    for an operator."""
    uow.record(*received)
    position = uow.save().position
    if not received:
        return WebhookHandled("duplicate", None, None, position)
    log.warning(
        "webhook for an unknown provider order",
        extra={
            "event_type": signal.event_type,
            "provider_order_id": signal.provider_order_id,
            "position": position,
        },
    )
    return WebhookHandled("unmatched", None, None, position)
