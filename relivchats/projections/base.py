"""What a projection is: a named read model (or effect) that applies events from the log.

A projection owns its tables and nothing else writes them. Handlers must be deterministic
functions of the events (no `now()`, no randomness), so a rebuild reproduces the tables row for row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Protocol

import asyncpg

from relivchats.domain.events import Event


@dataclass(frozen=True)
class Envelope:
    """One decoded event with its place in the log."""

    position: int
    event: Event
    recorded_at: datetime


class Projection(Protocol):
    name: ClassVar[str]
    topics: ClassVar[tuple[str, ...]]
    tables: ClassVar[tuple[str, ...]]

    async def apply(self, conn: asyncpg.Connection, batch: list[Envelope]) -> None:
        """Apply a batch inside the caller's transaction."""
        ...


def topics_of(*event_classes: type[Event]) -> tuple[str, ...]:
    return tuple(cls.TOPIC for cls in event_classes)
