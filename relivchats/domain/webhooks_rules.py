"""What receiving a provider's webhook decides: its receipt, once per provider event."""

from __future__ import annotations

from relivchats.domain.events import Event, next_event_fields
from relivchats.domain.webhooks import WebhookReceipt, WebhookReceived, receipt_id_for


def receive(
    state: WebhookReceipt | None,
    *,
    provider: str,
    provider_event_id: str,
    event_type: str,
    provider_order_id: str | None,
) -> list[Event]:
    """The first delivery of a provider event is recorded; every redelivery records nothing."""
    if state is not None:
        return []
    received = WebhookReceived(
        **next_event_fields(receipt_id_for(provider, provider_event_id), 0),
        provider=provider,
        event_type=event_type,
        provider_order_id=provider_order_id,
    )
    return [received]
