"""What a projection is: a named read model (or effect) that applies events from the log.

A projection owns its tables and nothing else writes them. Handlers must be deterministic
functions of the events (no `now()`, no randomness), so a rebuild reproduces the tables row for row.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from itertools import groupby
from typing import Any, ClassVar, NamedTuple, Protocol

import asyncpg

from relivchats.domain.events import Event


class LogPosition(NamedTuple):
    """A place in the log's order: the inserting transaction, then the notification id.

    Writers append concurrently, so notification ids are not in commit order; ordering by the
    transaction id first, and reading only settled transactions, gives an order that never changes
    behind a reader (architecture.md section 2). Tuples compare in that order.
    """

    transaction_id: int
    notification_id: int


LOG_START = LogPosition(0, 0)


class Envelope(NamedTuple):
    """One decoded event with its place in the log (a tuple: a rebuild makes one per event).

    `position` is the event's notification id: unique, what writes answer and read rows record.
    `log_position` is where it sits in the order projections follow.
    """

    position: int
    event: Event
    recorded_at: datetime
    transaction_id: int = 0

    @property
    def log_position(self) -> LogPosition:
        return LogPosition(self.transaction_id, self.position)


class Projection(Protocol):
    name: ClassVar[str]
    topics: ClassVar[tuple[str, ...]]
    tables: ClassVar[tuple[str, ...]]

    async def apply(self, conn: asyncpg.Connection, batch: list[Envelope]) -> None:
        """Apply a batch inside the caller's transaction."""
        ...


def topics_of(*event_classes: type[Event]) -> tuple[str, ...]:
    return tuple(cls.TOPIC for cls in event_classes)


# One SQL statement per event type, and how to turn an event (and its position) into its arguments.
Statement = tuple[str, Callable[[Any, int], tuple[Any, ...]]]


class StatementProjection:
    """A read model whose every event type maps to one parameterised statement.

    A batch runs as a few `executemany` calls: consecutive events with the same statement go
    together, in log order, which keeps rebuilds fast without reordering effects.
    """

    name: ClassVar[str]
    tables: ClassVar[tuple[str, ...]]
    statements: ClassVar[dict[type[Event], Statement]]

    async def apply(self, conn: asyncpg.Connection, batch: list[Envelope]) -> None:
        prepared = [self._prepared(envelope) for envelope in batch]
        for sql, run in groupby(prepared, key=lambda statement: statement[0]):
            await conn.executemany(sql, [arguments for _, arguments in run])

    def _prepared(self, envelope: Envelope) -> tuple[str, tuple[Any, ...]]:
        sql, arguments = self.statements[type(envelope.event)]
        return sql, arguments(envelope.event, envelope.position)
