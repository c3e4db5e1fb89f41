"""Issue 11: upgrading a table-lock database (migrations up to 006) to concurrent appends.

Old rows must keep their order and come before every new row; an old checkpoint N must cover
exactly the events it covered (notification ids up to N) and nothing appended afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import asyncpg
import psycopg
import pytest

from relivchats.projections import eventlog
from relivchats.schema import (
    create_database,
    database_on,
    drop_database,
    migrate,
    migration_files,
)
from tests.services import POSTGRES_URL

UPGRADE = "007_concurrent_appends.sql"


@pytest.fixture
def old_database() -> Iterator[str]:
    """A database migrated as the table-lock version left it, holding events and a checkpoint."""
    url = database_on(POSTGRES_URL, f"relivchats_test_{os.getpid()}_upgrade_{uuid.uuid4().hex[:8]}")
    create_database(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE schema_migrations (name text PRIMARY KEY, applied_at timestamptz)"
        )
        for name, text in migration_files():
            if name >= UPGRADE:
                break
            conn.execute(text.encode())
            conn.execute("INSERT INTO schema_migrations (name) VALUES (%s)", (name,))
        for _ in range(5):
            insert_event(conn, "tests.Old.v1")
        conn.execute("INSERT INTO projection_positions (name, position) VALUES ('old', 3)")
    try:
        yield url
    finally:
        drop_database(url)


def insert_event(conn: psycopg.Connection[tuple[object, ...]], topic: str) -> None:
    conn.execute(
        "INSERT INTO relivchats_events (originator_id, originator_version, topic, state)"
        " VALUES (%s, 1, %s, '{}')",
        (uuid.uuid4(), topic),
    )


async def test_old_rows_keep_their_order_before_new_ones_and_checkpoints_keep_their_meaning(
    old_database: str,
):
    assert migrate(old_database)[0] == UPGRADE  # later migrations follow it
    with psycopg.connect(old_database, autocommit=True) as conn:
        for _ in range(2):
            insert_event(conn, "tests.New.v1")
    conn = await asyncpg.connect(old_database)
    try:
        checkpoint = await eventlog.checkpoint_position(conn, "old")
        head = await eventlog.head_position(conn)
        topics = ("tests.Old.v1", "tests.New.v1")
        everything = await eventlog.read_rows(conn, (0, 0), head, topics, 100)
        after_checkpoint = await eventlog.read_rows(conn, checkpoint, head, topics, 100)
    finally:
        await conn.close()
    assert checkpoint == (0, 3)
    assert [r["topic"] for r in everything] == ["tests.Old.v1"] * 5 + ["tests.New.v1"] * 2
    assert [r["notification_id"] for r in everything[:5]] == [1, 2, 3, 4, 5]
    assert {r["transaction_id"] for r in everything[:5]} == {0}
    assert all(r["transaction_id"] > 0 for r in everything[5:])
    assert [r["notification_id"] for r in after_checkpoint] == [4, 5, 6, 7]
