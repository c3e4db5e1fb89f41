"""Reading the payment orders read model (projections/payments.py): its queries live here."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from relivchats.adapters.database import ReadPool

ORDER_FOR_USER = (
    "SELECT order_id, package_id, coins, provider, provider_order_id, amount_minor, currency,"
    " status, coins_granted, total_refunded_minor, failure_reason, created_at, updated_at, position"
    " FROM payment_orders WHERE order_id = $1 AND user_id = $2"
)


async def order_for_user(db: ReadPool, order_id: UUID, user_id: UUID) -> asyncpg.Record | None:
    """The order if it is this user's; another user's order is as absent as a missing one."""
    return await db.fetchrow(ORDER_FOR_USER, order_id, user_id)
