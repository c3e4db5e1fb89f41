"""Acknowledging a verified webhook: a redelivery is answered on the event loop, the rest decided.

A redelivery finds its receipt (in memory or the events table) and is answered at once;
anything else runs `handle_webhook` in the store's thread pool, which checks again: two first
deliveries can race.
"""

from __future__ import annotations

from relivchats.adapters.database import ReadPool
from relivchats.adapters.eventstore import AsyncEventStore
from relivchats.adapters.webhook_receipts import RecordedReceipts
from relivchats.commands.payments import WebhookHandled, handle_webhook
from relivchats.commands.unit_of_work import dispatch
from relivchats.domain import webhooks
from relivchats.domain.payment_signals import PaymentSignal


async def acknowledge_webhook(
    store: AsyncEventStore,
    db: ReadPool,
    receipts: RecordedReceipts,
    provider: str,
    signal: PaymentSignal,
) -> WebhookHandled:
    receipt_id = webhooks.receipt_id_for(provider, signal.event_id)
    recorded_at = await receipts.recorded_at(db, receipt_id)
    if recorded_at is not None:
        return WebhookHandled("duplicate", None, None, recorded_at)
    handled = await dispatch(store, handle_webhook, provider, signal)
    if handled.outcome != "duplicate":  # a duplicate found in the pool answers the head instead
        receipts.remember(receipt_id, handled.position)
    return handled
