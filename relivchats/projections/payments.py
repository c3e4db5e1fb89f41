"""Read model `payment_orders` (schema/004_payments.sql): each order's folded state and status.

Rows hold the whole `PaymentOrder` state, so a batch advances each order with the domain's own
`evolve` and derives `status` and `coins_granted` from it: the read side never re-implements
the payment rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

import asyncpg

from relivchats.domain import payments
from relivchats.domain.payments import (
    OrderCreated,
    OrderDisputed,
    OrderFailed,
    OrderFlagged,
    OrderPaid,
    OrderRefunded,
    PaymentOrder,
)
from relivchats.projections.base import Envelope, topics_of

STATE_COLUMNS = (
    "order_id, user_id, version, package_id, coins, provider, provider_order_id, amount_minor,"
    " currency, request_fingerprint, provider_payment_id, flagged, failure_reason,"
    " total_refunded_minor, disputed, created_at"
)
DERIVED_COLUMNS = "status, coins_granted, updated_at, position"
INSERT = (
    f"INSERT INTO payment_orders ({STATE_COLUMNS}, {DERIVED_COLUMNS})"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,"
    " $17, $18, $19, $20)"
)
UPDATE = (
    "UPDATE payment_orders SET version = $2, provider_payment_id = $3, flagged = $4,"
    " failure_reason = $5, total_refunded_minor = $6, disputed = $7, status = $8,"
    " coins_granted = $9, updated_at = $10, position = $11 WHERE order_id = $1"
)


@dataclass
class Advanced:
    """An order's state after this batch, and where in the log it last changed."""

    order: PaymentOrder
    position: int
    changed_at: datetime
    new: bool


class PaymentOrdersProjection:
    name: ClassVar[str] = "payment_orders"
    topics: ClassVar[tuple[str, ...]] = topics_of(
        OrderCreated, OrderPaid, OrderFailed, OrderRefunded, OrderDisputed, OrderFlagged
    )
    tables: ClassVar[tuple[str, ...]] = ("payment_orders",)

    async def apply(self, conn: asyncpg.Connection, batch: list[Envelope]) -> None:
        earlier = {e.event.originator_id for e in batch if not isinstance(e.event, OrderCreated)}
        known = await _load(conn, earlier)
        advanced: dict[UUID, Advanced] = {}
        for envelope in batch:
            event = envelope.event
            before = advanced.get(event.originator_id)
            state = before.order if before else known.get(event.originator_id)
            new = isinstance(event, OrderCreated) or bool(before and before.new)
            order = payments.evolve(state, event)
            advanced[event.originator_id] = Advanced(order, envelope.position, event.timestamp, new)
        # Plain INSERT: an order created twice must fail loudly, not hide.
        await conn.executemany(INSERT, [_inserted(a) for a in advanced.values() if a.new])
        await conn.executemany(UPDATE, [_updated(a) for a in advanced.values() if not a.new])


async def _load(conn: asyncpg.Connection, order_ids: Iterable[UUID]) -> dict[UUID, PaymentOrder]:
    wanted = list(order_ids)
    if not wanted:
        return {}
    rows = await conn.fetch(
        f"SELECT {STATE_COLUMNS} FROM payment_orders WHERE order_id = ANY($1::uuid[])", wanted
    )
    return {row["order_id"]: _state(row) for row in rows}


def _state(row: asyncpg.Record) -> PaymentOrder:
    fields = dict(row)
    fields["id"] = fields.pop("order_id")
    return PaymentOrder(**fields)


def _inserted(advanced: Advanced) -> tuple[Any, ...]:
    order = advanced.order
    return (
        order.id,
        order.user_id,
        order.version,
        order.package_id,
        order.coins,
        order.provider,
        order.provider_order_id,
        order.amount_minor,
        order.currency,
        order.request_fingerprint,
        order.provider_payment_id,
        order.flagged,
        order.failure_reason,
        order.total_refunded_minor,
        order.disputed,
        order.created_at,
        *_derived(advanced),
    )


def _updated(advanced: Advanced) -> tuple[Any, ...]:
    order = advanced.order
    return (
        order.id,
        order.version,
        order.provider_payment_id,
        order.flagged,
        order.failure_reason,
        order.total_refunded_minor,
        order.disputed,
        *_derived(advanced),
    )


def _derived(advanced: Advanced) -> tuple[Any, ...]:
    order = advanced.order
    return (order.status.value, order.coins_granted, advanced.changed_at, advanced.position)
