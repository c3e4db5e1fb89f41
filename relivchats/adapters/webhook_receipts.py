"""Webhook receipts this process knows to be recorded: a redelivery is answered on the event loop.

A recorded event is never removed, so presence is all that needs remembering: a hit in the
bounded memory is always right, and a miss asks the events table (strongly consistent: only
committed events are visible). It keeps a storm of redeliveries off the thread pool and the
database.
"""

from __future__ import annotations

from uuid import UUID

from relivchats.adapters.database import ReadPool
from relivchats.adapters.eventstore import first_event_position
from relivchats.adapters.lru import Lru


class RecordedReceipts:
    """Receipt id -> the position it was recorded at (bounded LRU)."""

    def __init__(self, capacity: int = 100_000) -> None:
        self._positions: Lru[UUID, int] = Lru(capacity)

    def position(self, receipt_id: UUID) -> int | None:
        return self._positions.get(receipt_id)

    def remember(self, receipt_id: UUID, position: int) -> None:
        self._positions.put(receipt_id, position)

    async def recorded_at(self, db: ReadPool, receipt_id: UUID) -> int | None:
        """Where the receipt was recorded, from memory or else the events table; None if not."""
        position = self.position(receipt_id)
        if position is None:
            async with db.connection() as conn:
                position = await first_event_position(conn, receipt_id)
        if position is not None:
            self.remember(receipt_id, position)
        return position
