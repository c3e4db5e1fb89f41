"""Read model `ledger`: balances, ledger entries and reservations of every credit account.

Tables (schema/003_ledger.sql): `credit_balances` (one row per account), `credit_transactions`
(one row per event, with the running balance) and `credit_reservations` (each reservation and
how it ended). Written for rebuild speed: a batch is first folded in memory, with the same
`movement()` the auditor's replay uses, then written with at most five set-based statements
whatever its size. New rows are plain INSERTs (COPY for the bulky ones: a rebuild writes two rows
per event) and resolutions only touch open reservations, so an event applied twice or out of
order fails loudly instead of being absorbed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

import asyncpg

from relivchats.domain.credits import (
    AccountOpened,
    CoinsAdjusted,
    CoinsPurchased,
    CoinsReserved,
    CoinsReversed,
    CreditEvent,
    ReservationCaptured,
    ReservationReleased,
    movement,
    reservation_status_named_by,
)
from relivchats.domain.ledger_chain import GENESIS, recorded_or_linked
from relivchats.projections.base import Envelope, topics_of

LEDGER_EVENTS = (
    AccountOpened,
    CoinsPurchased,
    CoinsReserved,
    ReservationCaptured,
    ReservationReleased,
    CoinsReversed,
    CoinsAdjusted,
)
_LEDGER_EVENT_CLASSES = frozenset(LEDGER_EVENTS)
_RESERVATION_EVENT_CLASSES = frozenset((CoinsReserved, ReservationCaptured, ReservationReleased))


class LedgerOutOfStep(Exception):
    """An event does not follow the account's last projected version: never absorb it."""


@dataclass
class _Account:
    """Running totals of one account while a batch is folded."""

    user_id: UUID
    balance: int
    held: int
    version: int
    opened_at: datetime
    updated_at: datetime
    position: int
    is_new: bool
    head_hash: str = GENESIS  # the account's hash-chain head (domain/ledger_chain.py)


@dataclass
class _Rows:
    """What one batch writes, table by table."""

    accounts: dict[UUID, _Account] = field(default_factory=dict)
    transactions: list[tuple[Any, ...]] = field(default_factory=list)
    new_reservations: dict[tuple[UUID, UUID], list[Any]] = field(default_factory=dict)
    resolved: dict[tuple[UUID, UUID], tuple[Any, ...]] = field(default_factory=dict)


class LedgerProjection:
    name: ClassVar[str] = "ledger"
    topics: ClassVar[tuple[str, ...]] = topics_of(*LEDGER_EVENTS)
    tables: ClassVar[tuple[str, ...]] = (
        "credit_balances",
        "credit_transactions",
        "credit_reservations",
    )
    # Written with COPY and never read or updated by `apply`: a rebuild indexes it at the end.
    append_only_tables: ClassVar[tuple[str, ...]] = ("credit_transactions",)

    async def apply(self, conn: asyncpg.Connection, batch: list[Envelope]) -> None:
        rows = _Rows(accounts=await _accounts_before(conn, batch))
        for envelope in batch:
            _fold(rows, envelope)
        await _write(conn, rows)


async def _accounts_before(conn: asyncpg.Connection, batch: list[Envelope]) -> dict[UUID, _Account]:
    """The stored totals of every account the batch touches but does not open."""
    opened = {e.event.originator_id for e in batch if isinstance(e.event, AccountOpened)}
    wanted = list({e.event.originator_id for e in batch} - opened)
    if not wanted:
        return {}
    records = await conn.fetch(
        "SELECT account_id, user_id, balance, held, version, opened_at, updated_at, position,"
        " head_hash"
        " FROM credit_balances WHERE account_id = ANY($1::uuid[])",
        wanted,
    )
    return {
        r["account_id"]: _Account(
            r["user_id"],
            r["balance"],
            r["held"],
            r["version"],
            r["opened_at"],
            r["updated_at"],
            r["position"],
            is_new=False,
            head_hash=r["head_hash"],
        )
        for r in records
    }


def _fold(rows: _Rows, envelope: Envelope) -> None:
    position, event = envelope.position, envelope.event
    kind = type(event)  # exact classes: a rebuild folds one event per row, this is its hot path
    if kind not in _LEDGER_EVENT_CLASSES or not isinstance(event, CreditEvent):
        raise TypeError(f"{kind.__name__} is not a credit event")
    account_id, timestamp = event.originator_id, event.timestamp
    if kind is AccountOpened:
        if account_id in rows.accounts:
            raise LedgerOutOfStep(f"account {account_id} opened twice")
        assert isinstance(event, AccountOpened)
        rows.accounts[account_id] = _Account(
            event.user_id, 0, 0, 0, timestamp, timestamp, position, True
        )
    account = rows.accounts.get(account_id)
    version = event.originator_version
    if account is None or version != account.version + 1:
        known = account.version if account else None
        raise LedgerOutOfStep(f"account {account_id}: version {version} after {known}")
    moved = movement(event)
    balance = account.balance = account.balance + moved.balance
    held = account.held = account.held + moved.held
    account.version, account.updated_at, account.position = version, timestamp, position
    account.head_hash = recorded_or_linked(account.head_hash, event)
    rows.transactions.append(
        (
            account_id,
            version,
            account.user_id,
            event.KIND,
            moved.balance,
            moved.held,
            balance,
            held,
            balance - held,
            moved.reference_id,
            moved.job_id,
            moved.description,
            timestamp,
            position,
        )
    )
    if kind in _RESERVATION_EVENT_CLASSES:
        _track_reservation(rows, account, event, position)


def _track_reservation(rows: _Rows, account: _Account, event: CreditEvent, position: int) -> None:
    if isinstance(event, CoinsReserved):
        key = (event.originator_id, event.reservation_id)
        rows.new_reservations[key] = [
            *key,
            account.user_id,
            event.job_id,
            event.amount,
            event.expires_at,
            reservation_status_named_by(event),
            None,
            event.timestamp,
            None,
            position,
        ]
        return
    if isinstance(event, ReservationCaptured | ReservationReleased):
        key = (event.originator_id, event.reservation_id)
        status = reservation_status_named_by(event)
        reason = event.reason if isinstance(event, ReservationReleased) else None
        if key in rows.new_reservations:  # reserved and resolved within this batch
            row = rows.new_reservations[key]
            row[6], row[7], row[9], row[10] = status, reason, event.timestamp, position
            return
        rows.resolved[key] = (*key, status, reason, event.timestamp, position)


def _columns(records: list[tuple[Any, ...]] | list[list[Any]]) -> list[list[Any]]:
    """Rows to columns, for `unnest($1::type[], $2::type[], ...)`."""
    return [list(column) for column in zip(*records, strict=True)]


async def _write(conn: asyncpg.Connection, rows: _Rows) -> None:
    if rows.transactions:
        await conn.copy_records_to_table(
            "credit_transactions", records=rows.transactions, columns=_TRANSACTION_COLUMNS
        )
    new = [(k, a) for k, a in rows.accounts.items() if a.is_new]
    changed = [(k, a) for k, a in rows.accounts.items() if not a.is_new]
    if new:
        await conn.execute(_INSERT_BALANCES, *_columns([_balance_row(k, a) for k, a in new]))
    if changed:
        await conn.execute(_UPDATE_BALANCES, *_columns([_balance_row(k, a) for k, a in changed]))
    if rows.new_reservations:
        await conn.copy_records_to_table(
            "credit_reservations",
            records=[tuple(row) for row in rows.new_reservations.values()],
            columns=_RESERVATION_COLUMNS,
        )
    if rows.resolved:
        status = await conn.execute(_RESOLVE_RESERVATIONS, *_columns(list(rows.resolved.values())))
        if status != f"UPDATE {len(rows.resolved)}":
            raise LedgerOutOfStep(f"resolved reservations that were not open ({status})")


def _balance_row(account_id: UUID, account: _Account) -> tuple[Any, ...]:
    return (
        account_id,
        account.user_id,
        account.balance,
        account.held,
        account.balance - account.held,
        account.balance < 0,
        account.version,
        account.opened_at,
        account.updated_at,
        account.position,
        account.head_hash,
    )


# fmt: off
_TRANSACTION_COLUMNS = (
    "account_id", "version", "user_id", "kind", "amount", "held_change", "balance_after",
    "held_after", "available_after", "reference_id", "job_id", "description", "occurred_at",
    "position",
)
# fmt: on

_BALANCE_COLUMNS = """unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::bigint[], $5::bigint[],
    $6::boolean[], $7::bigint[], $8::timestamptz[], $9::timestamptz[], $10::bigint[],
    $11::text[])"""

_INSERT_BALANCES = f"""
INSERT INTO credit_balances (account_id, user_id, balance, held, available, flagged, version,
    opened_at, updated_at, position, head_hash)
SELECT * FROM {_BALANCE_COLUMNS}
"""

_UPDATE_BALANCES = f"""
UPDATE credit_balances AS b SET balance = u.balance, held = u.held, available = u.available,
    flagged = u.flagged, version = u.version, updated_at = u.updated_at, position = u.position,
    head_hash = u.head_hash
FROM {_BALANCE_COLUMNS} AS u(account_id, user_id, balance, held, available, flagged, version,
    opened_at, updated_at, position, head_hash)
WHERE b.account_id = u.account_id
"""

# fmt: off
_RESERVATION_COLUMNS = (
    "account_id", "reservation_id", "user_id", "job_id", "amount", "expires_at", "status",
    "release_reason", "reserved_at", "resolved_at", "position",
)
# fmt: on


_RESOLVE_RESERVATIONS = """
UPDATE credit_reservations AS r SET status = u.status, release_reason = u.reason,
    resolved_at = u.resolved_at, position = u.position
FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::timestamptz[], $6::bigint[])
    AS u(account_id, reservation_id, status, reason, resolved_at, position)
WHERE r.account_id = u.account_id AND r.reservation_id = u.reservation_id AND r.status = 'open'
"""
