"""Reading the users read model (projections/users.py): every query on its table lives here."""

from __future__ import annotations

from uuid import UUID

from relivchats.domain.users import LatestAccount
from relivchats.projections.chat_queries import Queryable

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
