"""`relivchats simulate-payment --order ID`: pay a sandbox order offline, with real signatures.

Reads the order from the event store (so it needs no projector and no token), builds the
webhook the provider would send about it, signs it with `SANDBOX_WEBHOOK_SECRET` exactly as
Razorpay or Stripe sign theirs, and posts it to the running API.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx

from relivchats.adapters.eventstore import EventStore
from relivchats.adapters.local_services import LocalServices
from relivchats.adapters.payments import EventKind
from relivchats.adapters.payments.signing import SimulatedPayment, signed_webhook
from relivchats.domain import payments
from relivchats.settings import Settings, get_settings

EVENTS = ("captured", "failed", "refunded", "disputed")


def register(subcommands: Any) -> None:
    simulate = subcommands.add_parser(
        "simulate-payment", help="send a correctly signed sandbox webhook for an order"
    )
    simulate.add_argument("--order", required=True, type=UUID, help="our order id")
    simulate.add_argument("--event", choices=EVENTS, default="captured")
    simulate.add_argument(
        "--duplicates", type=int, default=0, help="deliver the same event N more times"
    )
    simulate.add_argument(
        "--amount", type=int, default=None, help="paid amount in minor units (default: the order's)"
    )
    simulate.add_argument("--api", default=None, help="API base URL (default: API_HOST:API_PORT)")
    simulate.set_defaults(handler=simulate_payment)


def simulate_payment(arguments: argparse.Namespace) -> int:
    settings = get_settings()
    order = _load_order(settings, arguments.order)
    if order is None:
        print(f"no order {arguments.order}", file=sys.stderr)
        return 2
    payment = SimulatedPayment(
        provider_order_id=order.provider_order_id,
        amount_minor=order.amount_minor if arguments.amount is None else arguments.amount,
        currency=order.currency,
        order_ref=str(order.id),
    )
    webhook = signed_webhook(
        order.provider,
        EventKind(arguments.event),
        payment,
        secret=settings.sandbox_webhook_secret.get_secret_value(),
    )
    api = arguments.api or f"http://{settings.api_host}:{settings.api_port}"
    url = f"{api.rstrip('/')}/api/payments/webhooks/{order.provider}"
    statuses = []
    with httpx.Client(timeout=10) as http:
        for _ in range(1 + max(0, arguments.duplicates)):
            response = http.post(url, content=webhook.body, headers=webhook.headers)
            statuses.append(response.status_code)
            print(response.status_code, response.text, flush=True)
    return 0 if all(status == 200 for status in statuses) else 1


def _load_order(settings: Settings, order_id: UUID) -> payments.PaymentOrder | None:
    """The order from the event store `relivchats run` uses (configured, local or embedded)."""
    services = LocalServices(Path(settings.data_dir))
    configured = settings.database_url if "database_url" in settings.model_fields_set else None
    database_url = services.postgres_url(configured, settings.database_url, settings.database_name)
    store = EventStore(settings.model_copy(update={"database_url": database_url}))
    try:
        return payments.replay(store.load(order_id))
    finally:
        store.close()
