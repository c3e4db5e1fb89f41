"""The coin ledger's hash chain: tamper evidence for auditors, one link per credit event.

Each credit event carries `chain_hash`, computed when the event was decided: SHA-256 over the
previous event's hash and the event's canonical fields (its topic, ids, amounts, kinds and times;
credit events hold no personal data, so crypto-shredding an account never changes a link). The
first event of an account links to `GENESIS`. Anyone holding the events can recompute every link:
an event whose stored hash differs from the recomputed one was altered after it was written, and
`first_break` names the first such event. An attacker who also rewrote every later hash is caught
by the head hash the ledger projection keeps per account (`credit_balances.head_hash`).

Events stored before the chain existed carry no hash: their link is computed (the chain still
covers them from then on, but their own contents cannot be proven untouched).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from relivchats.domain.events import Event

GENESIS = "0" * 64
CHAIN_FIELD = "chain_hash"

E = TypeVar("E", bound=Event)


def canonical(event: Event) -> bytes:
    """The event's fields (all but its hash) as sorted, compact JSON."""
    fields = {
        f.name: _plain(getattr(event, f.name))
        for f in dataclasses.fields(event)
        if f.name != CHAIN_FIELD
    }
    fields["topic"] = type(event).TOPIC
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


def _plain(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    return value


def link(previous: str, event: Event) -> str:
    return hashlib.sha256(previous.encode() + b"\n" + canonical(event)).hexdigest()


def recorded_or_linked(previous: str, event: Event) -> str:
    """The hash this event carries; for an event from before the chain, its computed link."""
    recorded: str | None = getattr(event, CHAIN_FIELD, None)
    return recorded or link(previous, event)


def chained(previous: str, events: Sequence[E]) -> list[E]:
    """The new events of one account with their links filled in, continuing from `previous`."""
    linked = []
    for event in events:
        previous = link(previous, event)
        changes: dict[str, Any] = {CHAIN_FIELD: previous}
        linked.append(dataclasses.replace(event, **changes))
    return linked


@dataclass(frozen=True)
class Break:
    """The first event whose recorded hash is not the hash of its contents."""

    index: int
    event: Event
    recorded: str
    expected: str


@dataclass(frozen=True)
class ChainCheck:
    head: str  # the hash of the last event, as recorded (or linked, for old events)
    first_break: Break | None


def check(events: Iterable[Event]) -> ChainCheck:
    """Recompute every link from the events; the first mismatch names the altered event."""
    previous, first = GENESIS, None
    for index, event in enumerate(events):
        expected = link(previous, event)
        recorded: str | None = getattr(event, CHAIN_FIELD, None)
        if first is None and recorded is not None and recorded != expected:
            first = Break(index, event, recorded, expected)
        previous = recorded or expected
    return ChainCheck(previous, first)
