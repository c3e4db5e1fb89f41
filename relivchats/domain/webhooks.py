"""Webhook receipts: each provider event acted on once, however often it is delivered.

A `WebhookReceipt` is keyed by (provider, provider event id) and saved with the effect of its
webhook: a redelivery finds the receipt already there (or collides on it) and acts no further.
Its event keeps the `payments.` topic it was first stored under.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from relivchats.domain.events import Event, deterministic_id, fold


def receipt_id_for(provider: str, provider_event_id: str) -> UUID:
    return deterministic_id("webhook", provider, provider_event_id)


@dataclass(frozen=True)
class WebhookReceived(Event):
    TOPIC = "payments.WebhookReceived.v1"
    provider: str
    event_type: str
    provider_order_id: str | None


@dataclass(frozen=True)
class WebhookReceipt:
    id: UUID
    version: int
    provider: str
    event_type: str
    provider_order_id: str | None
    received_at: datetime


def evolve(state: WebhookReceipt | None, event: Event) -> WebhookReceipt:
    assert isinstance(event, WebhookReceived), f"unexpected {type(event).__name__}"
    return WebhookReceipt(
        id=event.originator_id,
        version=event.originator_version,
        provider=event.provider,
        event_type=event.event_type,
        provider_order_id=event.provider_order_id,
        received_at=event.timestamp,
    )


def replay(events: Iterable[Event]) -> WebhookReceipt | None:
    return fold(evolve, events)
