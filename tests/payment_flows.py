"""Helpers for payment tests: a registered buyer, an order, signed deliveries, the coin balance."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import httpx

from relivchats.adapters.eventstore import EventStore
from relivchats.adapters.payments import EventKind
from relivchats.adapters.payments.signing import SignedWebhook, SimulatedPayment, signed_webhook
from relivchats.domain import (
    credits,
    credits_rules,
    payments,
    payments_rules,
    provider_links_rules,
)
from relivchats.domain.events import Event
from relivchats.domain.packages import package_by_id
from relivchats.settings import DEV_SANDBOX_WEBHOOK_SECRET
from tests.helpers import auth


@dataclass(frozen=True)
class Buyer:
    user_id: uuid.UUID
    headers: dict[str, str]


async def registered_buyer(client: httpx.AsyncClient, store: EventStore, token: str) -> Buyer:
    """A user who called POST /api/users/store, and so has a credit account."""
    headers = auth(token)
    stored = await client.post("/api/users/store", headers=headers)
    assert stored.status_code in (200, 201), stored.text
    user_id = uuid.UUID(stored.json()["user_id"])
    # Idempotent: a no-op wherever registration already opened the account with its bonus.
    account = credits.replay(store.load(credits.account_id_for(user_id)))
    opened = credits_rules.open_account(account, user_id)
    if opened:
        store.append(*opened)
    return Buyer(user_id, headers)


async def place_order(
    client: httpx.AsyncClient,
    buyer: Buyer,
    provider: str,
    package_id: str = "popular",
    key: str | None = None,
) -> httpx.Response:
    return await client.post(
        "/api/payments/orders",
        json={"package_id": package_id, "provider": provider},
        headers={**buyer.headers, "Idempotency-Key": key or uuid.uuid4().hex},
    )


def payment_of(order: dict[str, Any], **changes: Any) -> SimulatedPayment:
    """The payment a provider would report for this order (override amount, refund, ...)."""
    fields = {
        "provider_order_id": order["provider_order_id"],
        "amount_minor": order["amount_minor"],
        "currency": order["currency"],
        "order_ref": order["order_id"],
        **changes,
    }
    return SimulatedPayment(**fields)


def delivery(
    order: dict[str, Any],
    kind: EventKind,
    *,
    event_id: str | None = None,
    event_type: str | None = None,
    timestamp: int | None = None,
    secret: str = DEV_SANDBOX_WEBHOOK_SECRET,
    **changes: Any,
) -> SignedWebhook:
    """A signed delivery about `order`; `changes` alter the payment (amount, currency, ...)."""
    return signed_webhook(
        order["provider"],
        kind,
        payment_of(order, **changes),
        secret=secret,
        event_id=event_id or f"evt_{uuid.uuid4().hex[:20]}",
        event_type=event_type,
        timestamp=timestamp,
    )


async def deliver(
    client: httpx.AsyncClient, provider: str, webhook: SignedWebhook
) -> httpx.Response:
    return await client.post(
        f"/api/payments/webhooks/{provider}", content=webhook.body, headers=webhook.headers
    )


def balance(store: EventStore, user_id: uuid.UUID) -> int:
    """The coin balance replayed from the account's events: the write side's own truth."""
    account = credits.replay(store.load(credits.account_id_for(user_id)))
    assert account is not None
    return account.balance


def new_order(
    order_id: UUID, provider_order_id: str, *, with_account: bool = True
) -> tuple[list[Event], payments.PaymentOrder]:
    """The events of a Razorpay order of a new buyer (with or without a credit account), its
    provider link included, and the order they make."""
    user_id = uuid.uuid4()
    package = package_by_id("popular")
    created = payments_rules.create(
        None,
        order_id=order_id,
        user_id=user_id,
        package=package,
        provider="razorpay",
        fingerprint=payments.request_fingerprint(package.id, "razorpay"),
        provider_order_id=provider_order_id,
    )
    opened = credits_rules.open_account(None, user_id) if with_account else []
    linked = provider_links_rules.link("razorpay", provider_order_id, order_id)
    order = payments.replay(created)
    assert order is not None
    return [*opened, *created, *linked], order


def stored_order(store: Any, *, with_account: bool = True) -> payments.PaymentOrder:
    """A new buyer's Razorpay order appended directly to `store` (the event store or the
    in-memory one)."""
    order_id = uuid.uuid4()
    events, order = new_order(order_id, f"order_{uuid.uuid4().hex[:14]}", with_account=with_account)
    store.append(*events)
    return order
