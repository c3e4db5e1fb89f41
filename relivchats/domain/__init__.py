"""Pure domain model: aggregates, events, rules and errors. Imports nothing of ours but `domain`.

Importing this package imports every event class, which registers its stored TOPIC.
"""

from relivchats.domain import (
    chats,
    conversations,
    credits,
    insights,
    payments,
    provider_links,
    unlock_slots,
    users,
    webhooks,
)

__all__ = [
    "chats",
    "conversations",
    "credits",
    "insights",
    "payments",
    "provider_links",
    "unlock_slots",
    "users",
    "webhooks",
]
