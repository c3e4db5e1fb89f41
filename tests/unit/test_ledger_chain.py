"""The coin ledger's hash chain: every decided event carries its link; a changed field breaks it."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

from relivchats.adapters.eventstore import build_mapper
from relivchats.domain import credits_rules as rules
from relivchats.domain import ledger_chain
from relivchats.domain.credits import CreditEvent, evolve, replay
from relivchats.domain.events import fold

IN_AN_HOUR = datetime.now(tz=UTC) + timedelta(hours=1)


def a_ledger() -> list[CreditEvent]:
    user_id = uuid.uuid4()
    events: list[CreditEvent] = list(rules.open_account(None, user_id))
    order_id, reservation_id = uuid.uuid4(), uuid.uuid4()
    for decide, arguments in (
        (rules.purchase, (order_id, 850)),
        (rules.reserve, (reservation_id, 400, IN_AN_HOUR, uuid.uuid4())),
        (rules.capture, (reservation_id,)),
        (rules.reverse, (order_id, 100, "refund")),
    ):
        events += decide(replay(events), *arguments)  # type: ignore[operator]
    return events


def test_every_decided_credit_event_carries_the_link_over_the_one_before() -> None:
    events = a_ledger()

    previous = ledger_chain.GENESIS
    for event in events:
        assert event.chain_hash == ledger_chain.link(previous, event)
        previous = event.chain_hash
    assert replay(events).head_hash == previous  # type: ignore[union-attr]
    assert ledger_chain.check(events) == ledger_chain.ChainCheck(previous, None)


def test_an_altered_amount_is_named_as_the_first_break() -> None:
    events = a_ledger()
    altered = dataclasses.replace(events[2], amount=1)  # type: ignore[call-arg]
    tampered = [*events[:2], altered, *events[3:]]

    broken = ledger_chain.check(tampered).first_break

    assert broken is not None
    assert (broken.index, broken.event) == (2, altered)
    assert broken.recorded == events[2].chain_hash != broken.expected


def test_the_links_survive_the_event_store_encoding() -> None:
    mapper = build_mapper()
    events = a_ledger()
    decoded = [mapper.to_domain_event(mapper.to_stored_event(event)) for event in events]

    assert ledger_chain.check(decoded).first_break is None  # type: ignore[arg-type]
    assert [e.chain_hash for e in decoded] == [e.chain_hash for e in events]  # type: ignore[attr-defined]


def test_events_from_before_the_chain_are_linked_on_the_fly() -> None:
    events = [dataclasses.replace(event, chain_hash=None) for event in a_ledger()]

    check = ledger_chain.check(events)
    state = fold(evolve, events)

    assert check.first_break is None
    assert state is not None and state.head_hash == check.head
