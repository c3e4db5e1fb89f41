"""Reading the users read model (projections/users.py) with the user's balance: its queries."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from relivchats.adapters.database import ReadPool
from relivchats.domain.credits import account_id_for

USER_WITH_BALANCE = (
    "SELECT u.registered_at, b.balance, b.held, b.available FROM users u"
    " LEFT JOIN credit_balances b ON b.account_id = $2"
    " WHERE u.user_id = $1 AND u.deletion_requested_at IS NULL"
)


async def user_with_balance(db: ReadPool, user_id: UUID) -> asyncpg.Record | None:
    """A registered, not deleted user with their coins; None for anyone else."""
    return await db.fetchrow(USER_WITH_BALANCE, user_id, account_id_for(user_id))
