"""Reading the users read model (projections/users.py): every query on its table lives here.

The newest account of a token's subject (authentication, remembered per API process:
api/acting_accounts.py), a user with their balance (`GET /api/users/me`), a profile (the
export), and the accounts whose erasure is due.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

from relivchats.adapters.database import ReadPool
from relivchats.domain.credits import account_id_for
from relivchats.domain.users import LatestAccount
from relivchats.projections.chat_queries import Queryable

USER_WITH_BALANCE = (
    "SELECT u.registered_at, b.balance, b.held, b.available FROM users u"
    " LEFT JOIN credit_balances b ON b.account_id = $2"
    " WHERE u.user_id = $1 AND u.deletion_requested_at IS NULL"
)


async def user_with_balance(db: ReadPool, user_id: UUID) -> asyncpg.Record | None:
    """A registered, not deleted user with their coins; None for anyone else."""
    return await db.fetchrow(USER_WITH_BALANCE, user_id, account_id_for(user_id))


# One index scan (users_by_subject): the newest account of the subject, and its newest deletion.
_LATEST = """
SELECT generation, deletion_requested_at IS NOT NULL AS deleted,
       max(deletion_requested_at) OVER () AS last_deletion_at
FROM users WHERE subject_key = $1
ORDER BY generation DESC LIMIT 1
"""


async def latest_account(db: Queryable, subject_key: UUID) -> LatestAccount | None:
    row = await db.fetchrow(_LATEST, subject_key)
    if row is None:
        return None
    return LatestAccount(row["generation"], row["deleted"], row["last_deletion_at"])


async def profile(db: Queryable, user_id: UUID) -> dict[str, object] | None:
    row = await db.fetchrow(
        "SELECT user_id, generation, registered_at, deletion_requested_at, erasure_due_at,"
        " erased_at FROM users WHERE user_id = $1",
        user_id,
    )
    return dict(row) if row else None


# For beat's erasure task (psycopg, sync): deleted accounts whose grace period is over.
ERASURE_DUE_SQL = (
    "SELECT user_id FROM users WHERE erasure_due_at <= now() AND erased_at IS NULL"
    " ORDER BY erasure_due_at LIMIT %s"
)
