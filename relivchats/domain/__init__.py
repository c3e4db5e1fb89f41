"""Pure domain model: aggregates, events, rules and errors. Imports nothing of ours but `domain`.

Every aggregate has two modules, named alike, with the same verbs:

- `<aggregate>.py` is what happened and what it means: the aggregate's id functions, errors,
  events (with pinned TOPICs), its state, `evolve(state, event)` (the fold of one event) and
  `replay(events)` (the fold of a stream, None when it is empty), and what the state derives,
  such as a status;
- `<aggregate>_rules.py` is what a command may do: pure decide functions, each named after the
  command it decides (`chats_rules.share`, `credits_rules.reserve`), taking the state(s) it
  needs and the command's data and returning the events of one save (empty when the command
  was already carried out) or raising a domain error; with the inputs and checks they share.

The aggregates: chats, conversations, credits, insights (whose rules also decide the unlock
slots' events, saved with the job's), payments, provider_links, users, webhooks; unlock_slots
has no commands of its own. Command handlers (commands/) load with `evolve`, call one decide
function and save; projections and the auditor read the events and the derived values.

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
