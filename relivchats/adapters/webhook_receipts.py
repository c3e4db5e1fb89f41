"""Webhook receipts this process knows to be recorded: a redelivery is answered on the event loop.

A recorded event is never removed, so presence is all that needs remembering: a hit in the
bounded memory is always right, and a miss asks the events table (strongly consistent: only
committed events are visible). It keeps a storm of redeliveries off the thread pool and the
database. The position remembered is the one the first delivery was answered with: that of
the save (one transaction) that recorded the receipt.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

from relivchats.adapters.database import ReadPool
from relivchats.adapters.eventstore import EVENTS_TABLE
from relivchats.adapters.lru import Lru

# The position a save answers is its last event's; a receipt is saved with its effects (and,
# in a batch, with other deliveries'), so its delivery was answered with its transaction's
# last event. Rows from before transaction ids were recorded (0) were saved receipt last.
SAVE_POSITION_OF_RECEIPT = (
    "SELECT CASE WHEN receipt.transaction_id = '0' THEN receipt.notification_id"
    f" ELSE (SELECT max(notification_id) FROM {EVENTS_TABLE} saved"
    "  WHERE saved.transaction_id = receipt.transaction_id) END"
    f" FROM {EVENTS_TABLE} receipt WHERE originator_id = $1 AND originator_version = 1"
)


class RecordedReceipts:
    """Receipt id -> the position it was recorded at (bounded LRU)."""

    def __init__(self, capacity: int = 100_000) -> None:
        self._positions: Lru[UUID, int] = Lru(capacity)

    def position(self, receipt_id: UUID) -> int | None:
        return self._positions.get(receipt_id)

    def remember(self, receipt_id: UUID, position: int) -> None:
        self._positions.put(receipt_id, position)

    async def recorded_at(self, db: ReadPool, receipt_id: UUID) -> int | None:
        """The position of the save that recorded the receipt, from memory or else the events
        table; None if it is not recorded."""
        position = self.position(receipt_id)
        if position is None:
            async with db.connection() as conn:
                position = await _save_position(conn, receipt_id)
        if position is not None:
            self.remember(receipt_id, position)
        return position


async def _save_position(conn: asyncpg.Connection, receipt_id: UUID) -> int | None:
    """Strongly consistent: only committed events are visible, and events are never removed."""
    position: int | None = await conn.fetchval(SAVE_POSITION_OF_RECEIPT, receipt_id)
    return position
