"""The auditor's replay: fold one account's events with the pure domain, compare the read model.

The comparison is made inside one REPEATABLE READ snapshot, against the events up to the ledger
projection's checkpoint, so a projection that is merely behind is never reported as wrong: the
read tables and the checkpoint are committed together, and every event up to the checkpoint
was committed before it. What the events say is computed here independently of the projection
(`credits.replay` for the state, `ledger_entries` for the running totals), and both must agree
with each other as well as with the tables. Shared by `GET /api/audit/users/{id}/verify` and
`relivchats audit replay`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import asyncpg

from relivchats.domain import credits, ledger_chain
from relivchats.domain.credits import (
    AccountOpened,
    CoinsReserved,
    CreditEvent,
    ReservationCaptured,
    ReservationReleased,
    reservation_status_named_by,
)
from relivchats.domain.ledger_entries import ledger_entries
from relivchats.projections import eventlog, ledger_queries
from relivchats.projections.base import Envelope
from relivchats.projections.ledger import LedgerProjection

MAX_REPORTED = 100
Rows = Mapping[Any, Mapping[str, Any]]


@dataclass(frozen=True)
class Difference:
    table: str
    key: str
    field: str
    expected: Any
    actual: Any

    def as_dict(self) -> dict[str, str]:
        return {
            "table": self.table,
            "key": self.key,
            "field": self.field,
            "expected": str(self.expected),
            "actual": str(self.actual),
        }


@dataclass(frozen=True)
class Verification:
    account_id: UUID
    user_id: UUID | None
    events: int
    checked_upto: int  # the ledger projection's checkpoint the comparison was made at
    balance: int | None
    held: int | None
    differences: list[Difference] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences


async def verify_account(conn: asyncpg.Connection, account_id: UUID) -> Verification:
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        upto = await eventlog.checkpoint_position(conn, LedgerProjection.name)
        envelopes = await eventlog.read_stream(conn, account_id, upto)
        balance, entries, reservations = await ledger_queries.snapshot(conn, account_id)
    return compare(account_id, upto.notification_id, envelopes, balance, entries, reservations)


async def audited_account_ids(conn: asyncpg.Connection) -> list[UUID]:
    """Every account the log opened or the read model shows, so extra rows are caught too."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        upto = await eventlog.checkpoint_position(conn, LedgerProjection.name)
        opened = await eventlog.originators(conn, AccountOpened.TOPIC, upto)
        projected = await ledger_queries.projected_account_ids(conn)
    return list(dict.fromkeys([*opened, *projected]))


def compare(
    account_id: UUID,
    upto: int,
    envelopes: list[Envelope],
    balance: Mapping[str, Any] | None,
    entries: list[asyncpg.Record],
    reservations: list[asyncpg.Record],
) -> Verification:
    events = [_credit_event(e) for e in envelopes]
    state = credits.replay(events)
    differences = _chain_breaks(events) + _replay_disagreements(events, state)
    differences += _compare_rows(
        "credit_balances",
        _expected_balance(envelopes, state),
        _keyed([balance] if balance else [], ()),
    )
    differences += _compare_rows(
        "credit_transactions", _expected_entries(envelopes), _keyed(entries, ("version",))
    )
    differences += _compare_rows(
        "credit_reservations",
        _expected_reservations(envelopes),
        _keyed(reservations, ("reservation_id",)),
    )
    return Verification(
        account_id=account_id,
        user_id=state.user_id if state else None,
        events=len(events),
        checked_upto=upto,
        balance=state.balance if state else None,
        held=state.held if state else None,
        differences=differences[:MAX_REPORTED],
    )


def _credit_event(envelope: Envelope) -> CreditEvent:
    if not isinstance(envelope.event, CreditEvent):
        raise TypeError(f"{type(envelope.event).__name__} in a credit account's stream")
    return envelope.event


def _chain_breaks(events: list[CreditEvent]) -> list[Difference]:
    """The first event whose recorded hash is not the hash of its contents: altered in storage."""
    broken = ledger_chain.check(events).first_break
    if broken is None:
        return []
    event = broken.event
    return [
        Difference(
            "hash_chain",
            f"{event.originator_id}/{event.originator_version}",
            "chain_hash",
            broken.expected,
            broken.recorded,
        )
    ]


def _replay_disagreements(
    events: list[CreditEvent], state: credits.CreditAccount | None
) -> list[Difference]:
    """The fold and the summed ledger are computed differently; they must end in one place."""
    if state is None:
        return []
    last = ledger_entries(events)[-1]
    return [
        Difference("replay", "ledger_entries", name, fold_value, summed)
        for name, fold_value, summed in (
            ("balance", state.balance, last.balance_after),
            ("held", state.held, last.held_after),
        )
        if fold_value != summed
    ]


def _expected_balance(envelopes: list[Envelope], state: credits.CreditAccount | None) -> Rows:
    if state is None:
        return {}
    first, last = envelopes[0], envelopes[-1]
    return {
        (): {
            "user_id": state.user_id,
            "balance": state.balance,
            "held": state.held,
            "available": state.available,
            "flagged": state.flagged,
            "version": state.version,
            "opened_at": first.event.timestamp,
            "updated_at": last.event.timestamp,
            "position": last.position,
            "head_hash": state.head_hash,
        }
    }


def ledger_rows(envelopes: list[Envelope]) -> list[dict[str, Any]]:
    """The ledger as the events tell it: one row per event with the running totals."""
    entries = ledger_entries(_credit_event(e) for e in envelopes)
    return [
        {
            "version": entry.version,
            "position": envelope.position,
            "occurred_at": entry.timestamp,
            "kind": entry.kind,
            "amount": entry.amount,
            "held_change": entry.held_change,
            "balance_after": entry.balance_after,
            "held_after": entry.held_after,
            "available_after": entry.available_after,
            "reference_id": entry.reference_id,
            "job_id": entry.job_id,
            "description": entry.description,
        }
        for entry, envelope in zip(entries, envelopes, strict=True)
    ]


async def replayed_ledger(conn: asyncpg.Connection, account_id: UUID) -> list[dict[str, Any]]:
    """Every event of the account up to the log's head, replayed (the auditor's export)."""
    upto = await eventlog.head_position(conn)
    return ledger_rows(await eventlog.read_stream(conn, account_id, upto))


def _expected_entries(envelopes: list[Envelope]) -> Rows:
    return {(row["version"],): row for row in ledger_rows(envelopes)}


def _expected_reservations(envelopes: list[Envelope]) -> Rows:
    expected: dict[tuple[UUID], dict[str, Any]] = {}
    for envelope in envelopes:
        match envelope.event:
            case CoinsReserved() as held:
                expected[(held.reservation_id,)] = {
                    "job_id": held.job_id,
                    "amount": held.amount,
                    "expires_at": held.expires_at,
                    "status": reservation_status_named_by(held),
                    "release_reason": None,
                    "reserved_at": held.timestamp,
                    "resolved_at": None,
                    "position": envelope.position,
                }
            case ReservationCaptured() | ReservationReleased() as resolved:
                expected[(resolved.reservation_id,)].update(
                    status=reservation_status_named_by(resolved),
                    release_reason=getattr(resolved, "reason", None),
                    resolved_at=resolved.timestamp,
                    position=envelope.position,
                )
    return expected


def _keyed(records: list[Any] | None, key: tuple[str, ...]) -> Rows:
    return {tuple(record[k] for k in key): dict(record) for record in records or []}


def _compare_rows(table: str, expected: Rows, actual: Rows) -> list[Difference]:
    differences = []
    for key in expected.keys() | actual.keys():
        label = "/".join(str(part) for part in key) or "account"
        if key not in actual:
            differences.append(Difference(table, label, "(row)", "present", "missing"))
        elif key not in expected:
            differences.append(Difference(table, label, "(row)", "absent", "present"))
        else:
            differences += [
                Difference(table, label, name, value, actual[key].get(name))
                for name, value in expected[key].items()
                if actual[key].get(name) != value
            ]
    return sorted(differences, key=lambda d: (d.table, d.key, d.field))
