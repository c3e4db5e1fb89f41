"""The link from a provider's order id to our payment order: how a webhook finds its order.

Webhooks name the provider's order (Razorpay order id, Stripe PaymentIntent id), not ours. The
link is an aggregate keyed by (provider, provider order id) and appended in the same save as
the order's `OrderCreated`, so the lookup is as consistent as the order itself: no read model
that may lag behind a capture arriving right after checkout.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from relivchats.domain.events import Event, deterministic_id, fold


def link_id_for(provider: str, provider_order_id: str) -> UUID:
    return deterministic_id("provider-order", provider, provider_order_id)


@dataclass(frozen=True)
class ProviderOrderLinked(Event):
    TOPIC = "payments.ProviderOrderLinked.v1"
    provider: str
    provider_order_id: str
    order_id: UUID


def evolve(state: UUID | None, event: Event) -> UUID:
    """A link's state is our order id (none when the provider order is not ours)."""
    assert isinstance(event, ProviderOrderLinked), f"unexpected {type(event).__name__}"
    return event.order_id


def replay(events: Iterable[Event]) -> UUID | None:
    return fold(evolve, events)
