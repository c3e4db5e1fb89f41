"""What creating an order decides for its provider link: one link per provider order."""

from __future__ import annotations

from uuid import UUID

from relivchats.domain.events import Event, next_event_fields
from relivchats.domain.provider_links import ProviderOrderLinked, link_id_for


def link(provider: str, provider_order_id: str, order_id: UUID) -> list[Event]:
    """A provider order belongs to one of our orders; linking it twice collides on version 1."""
    fields = next_event_fields(link_id_for(provider, provider_order_id), 0)
    return [
        ProviderOrderLinked(
            **fields, provider=provider, provider_order_id=provider_order_id, order_id=order_id
        )
    ]
