"""Read model `users`: one row per registered account (schema/002_users.sql)."""

from __future__ import annotations

from typing import ClassVar

import asyncpg

from relivchats.domain.users import UserDeletionRequested, UserRegistered
from relivchats.projections.base import Envelope, topics_of


class UsersProjection:
    name: ClassVar[str] = "users"
    topics: ClassVar[tuple[str, ...]] = topics_of(UserRegistered, UserDeletionRequested)
    tables: ClassVar[tuple[str, ...]] = ("users",)

    # Plain INSERT, no ON CONFLICT: applying an event twice must fail loudly, not hide.
    async def apply(self, conn: asyncpg.Connection, batch: list[Envelope]) -> None:
        registered = [e for e in batch if isinstance(e.event, UserRegistered)]
        if registered:
            await conn.executemany(
                "INSERT INTO users (user_id, registered_at, position) VALUES ($1, $2, $3)",
                [(e.event.originator_id, e.event.timestamp, e.position) for e in registered],
            )
        for envelope in batch:
            if isinstance(envelope.event, UserDeletionRequested):
                await conn.execute(
                    "UPDATE users SET deletion_requested_at = $2, position = $3 WHERE user_id = $1",
                    envelope.event.originator_id,
                    envelope.event.timestamp,
                    envelope.position,
                )
