"""The plain decoder reads the same events as the mapper's general path, or declines.

Projections and rebuilds read every plain event through `PlainEventDecoder`; commands and
everything else through the mapper. The two must never disagree: for every plain class, with
fields drawn by hypothesis (integers beyond 64 bits and naive or aware datetimes included), an
event the mapper wrote reads as an equal event with fields of the same types, or the plain path
declines and the general one reads it. States the plan does not expect are declined.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, get_type_hints

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from relivchats.adapters.event_decoder import PlainEventDecoder
from relivchats.adapters.eventstore import build_mapper
from relivchats.domain.credits import CoinsReserved
from relivchats.domain.events import EVENT_CLASSES, next_event_fields
from relivchats.projections.ledger import LedgerProjection

MAPPER = build_mapper()
DECODER = PlainEventDecoder.of(MAPPER)
assert DECODER is not None
PLAIN_TOPICS = sorted(topic for topic in EVENT_CLASSES if DECODER.decodes(topic))

zones = st.sampled_from([None, UTC, timezone(timedelta(hours=5, minutes=30))])
wide_integers = st.integers(min_value=-(2**70), max_value=2**70)


def values_of(annotation: Any) -> st.SearchStrategy[Any]:
    if annotation is int:
        return wide_integers
    if annotation is datetime:
        return st.datetimes(timezones=zones)
    if annotation == datetime | None:
        return st.none() | st.datetimes(timezones=zones)
    return st.from_type(annotation)


@st.composite
def plain_events(draw: st.DrawFn) -> Any:
    event_class = EVENT_CLASSES[draw(st.sampled_from(PLAIN_TOPICS))]
    hints = get_type_hints(event_class)
    fields = {f.name: draw(values_of(hints[f.name])) for f in dataclasses.fields(event_class)}
    return event_class(**fields)


def read_both_ways(event: Any) -> tuple[Any, Any]:
    stored = MAPPER.to_stored_event(event)
    general = MAPPER.to_domain_event(stored)
    assert DECODER is not None
    plain = DECODER.decode(
        stored.topic, stored.originator_id, stored.originator_version, stored.state
    )
    return general, plain


def field_types(event: Any) -> dict[str, type]:
    return {name: type(value) for name, value in vars(event).items()}


def test_every_ledger_event_is_plain():
    assert set(LedgerProjection.topics) <= set(PLAIN_TOPICS)


@given(plain_events())
def test_a_plain_event_reads_as_the_mapper_reads_it(event):
    general, plain = read_both_ways(event)
    if plain is not None:
        assert plain == general
        assert field_types(plain) == field_types(general)
    ints = [v for v in vars(event).values() if type(v) is int]
    if all(-(2**63) <= v < 2**63 for v in ints):
        assert plain is not None  # declining is for what orjson reads differently only


def reserved() -> CoinsReserved:
    return CoinsReserved(
        **next_event_fields(uuid.uuid4(), 2),
        reservation_id=uuid.uuid4(),
        amount=10,
        expires_at=datetime.now(UTC),
        job_id=uuid.uuid4(),
    )


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda s: {**s, "class_version": 2}, id="an extra key"),
        pytest.param(lambda s: {k: v for k, v in s.items() if k != "job_id"}, id="a missing key"),
        pytest.param(lambda s: {**s, "amount": 10.0}, id="a float"),
        pytest.param(lambda s: {**s, "job_id": None}, id="None where it may not be"),
        pytest.param(
            lambda s: {**s, "job_id": {"_type_": "decimal_str", "_data_": "1"}}, id="another tag"
        ),
        pytest.param(lambda s: {**s, "job_id": {**s["job_id"], "x": 1}}, id="a tag with more"),
    ],
)
def test_a_state_the_plan_does_not_expect_is_declined(change):
    stored = MAPPER.to_stored_event(reserved())
    state = orjson.dumps(change(orjson.loads(stored.state)))
    assert DECODER is not None
    assert DECODER.decode(stored.topic, stored.originator_id, 3, state) is None


def test_a_state_orjson_cannot_read_is_declined():
    assert DECODER is not None
    assert DECODER.decode(CoinsReserved.TOPIC, uuid.uuid4(), 1, b'{"amount": NaN}') is None


def test_classes_with_personal_fields_are_left_to_the_mapper():
    personal = [t for t, c in EVENT_CLASSES.items() if getattr(c, "PERSONAL", None)]
    assert personal
    assert not any(DECODER is not None and DECODER.decodes(topic) for topic in personal)
