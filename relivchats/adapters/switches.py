"""The switches' table: read by every API process (asyncpg) and by workers and the CLI (psycopg).

A change is one transaction: the switch's row is locked, set, and the change (who, when, old,
new) recorded beside it, so the history is exactly the sequence of settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg

from relivchats.domain import switches

SELECT_SWITCHES = "SELECT name, percent FROM feature_switches"
SELECT_ONE = "SELECT percent FROM feature_switches WHERE name = %s"
_CREATE_ON = (
    "INSERT INTO feature_switches (name, percent, changed_by) VALUES (%s, 100, %s)"
    " ON CONFLICT (name) DO NOTHING"
)
_LOCK = "SELECT percent FROM feature_switches WHERE name = %s FOR UPDATE"
_SET = (
    "UPDATE feature_switches SET percent = %s, changed_at = now(), changed_by = %s"
    " WHERE name = %s RETURNING changed_at"
)
_RECORD = (
    "INSERT INTO feature_switch_changes (name, old_percent, new_percent, changed_by, changed_at)"
    " VALUES (%s, %s, %s, %s, %s)"
)
_HISTORY = (
    "SELECT name, old_percent, new_percent, changed_by, changed_at FROM feature_switch_changes"
    " ORDER BY change_id DESC LIMIT %s"
)


@dataclass(frozen=True)
class SwitchChange:
    name: str
    old_percent: int
    new_percent: int
    changed_by: str
    changed_at: datetime


async def load_percentages(db: Any) -> dict[str, int]:
    """Every switch an operator set (asyncpg pool or connection); the others are on."""
    return {row["name"]: row["percent"] for row in await db.fetch(SELECT_SWITCHES)}


def set_switch(conn: psycopg.Connection[Any], name: str, percent: int, by: str) -> SwitchChange:
    switches.known_switch(name)
    with conn.transaction():
        conn.execute(_CREATE_ON, (name, by))
        row = conn.execute(_LOCK, (name,)).fetchone()
        assert row is not None  # created just above if missing
        changed = conn.execute(_SET, (percent, by, name)).fetchone()
        assert changed is not None
        change = SwitchChange(name, row[0], percent, by, changed[0])
        conn.execute(_RECORD, (name, change.old_percent, percent, by, change.changed_at))
    return change


def current_percentages(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """Every known switch with its setting (100 when nobody set it)."""
    stored: dict[str, int] = dict(conn.execute(SELECT_SWITCHES).fetchall())
    return {name: stored.get(name, switches.ON) for name in switches.SWITCHES}


def history(conn: psycopg.Connection[Any], limit: int = 50) -> list[SwitchChange]:
    return [SwitchChange(*row) for row in conn.execute(_HISTORY, (limit,)).fetchall()]


def feature_enabled(conn: psycopg.Connection[Any], name: str, user_id: UUID | None = None) -> bool:
    """For workers and scripts: the switch read now (no cache), for this user if given."""
    row = conn.execute(SELECT_ONE, (switches.known_switch(name),)).fetchone()
    percent = switches.ON if row is None else row[0]
    return switches.lets_through(name, percent, user_id)
