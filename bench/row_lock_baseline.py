"""The row-lock baseline for bench/ledger.py: the old design's reserve and capture.

Each movement locks the user's balance row (`SELECT ... FOR UPDATE`), checks it, writes the
reservation and a ledger row, and updates the balance, in one transaction per movement, on one
psycopg connection per client thread.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable

import psycopg

Cycle = Callable[[random.Random], None]


ROW_LOCK_SCHEMA = """
CREATE TABLE bench_balances (user_id uuid PRIMARY KEY, balance bigint NOT NULL,
    held bigint NOT NULL);
CREATE TABLE bench_reservations (reservation_id uuid PRIMARY KEY, user_id uuid NOT NULL,
    amount bigint NOT NULL, status text NOT NULL);
CREATE TABLE bench_transactions (user_id uuid NOT NULL, at timestamptz NOT NULL DEFAULT now(),
    kind text NOT NULL, amount bigint NOT NULL, reference_id uuid NOT NULL);
"""


def row_lock_cycle(dsn: str, users: list[uuid.UUID]) -> Callable[[], Cycle]:
    """The old design: lock the balance row, check, write the reservation and a ledger row."""
    return lambda: RowLockClient(dsn, users)


class RowLockClient:
    """One client thread of the old design, on its own connection (closed when the thread ends)."""

    def __init__(self, dsn: str, users: list[uuid.UUID]):
        self.conn = psycopg.connect(dsn)
        self.users = users

    def close(self) -> None:
        self.conn.close()

    def __call__(self, rng: random.Random) -> None:
        conn, user_id, reservation_id = self.conn, rng.choice(self.users), uuid.uuid4()
        with conn.transaction():
            balance, held = conn.execute(
                "SELECT balance, held FROM bench_balances WHERE user_id = %s FOR UPDATE",
                (user_id,),
            ).fetchone() or (0, 0)
            assert balance - held >= 10
            conn.execute(
                "INSERT INTO bench_reservations VALUES (%s, %s, 10, 'open')",
                (reservation_id, user_id),
            )
            conn.execute(
                "UPDATE bench_balances SET held = held + 10 WHERE user_id = %s", (user_id,)
            )
            _ledger_row(conn, user_id, "reservation", 0, reservation_id)
        with conn.transaction():
            conn.execute("SELECT 1 FROM bench_balances WHERE user_id = %s FOR UPDATE", (user_id,))
            conn.execute(
                "UPDATE bench_reservations SET status = 'captured'"
                " WHERE reservation_id = %s AND status = 'open'",
                (reservation_id,),
            )
            conn.execute(
                "UPDATE bench_balances SET balance = balance - 10, held = held - 10"
                " WHERE user_id = %s",
                (user_id,),
            )
            _ledger_row(conn, user_id, "capture", -10, reservation_id)


def _ledger_row(
    conn: psycopg.Connection[tuple[object, ...]],
    user_id: uuid.UUID,
    kind: str,
    amount: int,
    ref: uuid.UUID,
) -> None:
    conn.execute(
        "INSERT INTO bench_transactions (user_id, kind, amount, reference_id)"
        " VALUES (%s, %s, %s, %s)",
        (user_id, kind, amount, ref),
    )


def prepare_row_lock(dsn: str, users: list[uuid.UUID], coins: int) -> None:
    with psycopg.connect(dsn) as conn:
        conn.execute(ROW_LOCK_SCHEMA)
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO bench_balances VALUES (%s, %s, 0)", [(u, coins) for u in users]
            )
