"""The orjson transcoder writes and reads exactly what the library's JSON transcoder does.

Stored events outlive code: every event written before this transcoder must read the same, and
every event it writes must read the same through the library's own transcoder. Property tests
over nested values with the registered types (UUID, datetime, Decimal) and the values orjson
treats differently from `json` (integers beyond 64 bits, non-finite floats, non-string keys).
"""

from __future__ import annotations

import dataclasses
import math
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, Mapper, TranscodingNotRegisteredError
from hypothesis import given, settings
from hypothesis import strategies as st

from relivchats.adapters.eventstore import build_mapper
from relivchats.adapters.transcoder import OrjsonTranscoder
from relivchats.domain.events import next_event_fields
from relivchats.domain.users import UserRegistered


def registered(transcoder: JSONTranscoder) -> JSONTranscoder:
    Application.register_transcodings(None, transcoder)  # type: ignore[arg-type]
    return transcoder


LIBRARY = registered(JSONTranscoder())
OURS = registered(OrjsonTranscoder())

NAMES = ["uuid_hex", "datetime_iso", "decimal_str", "unknown"]
zones = st.sampled_from(
    [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=3))]
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
    st.uuids(),
    st.datetimes(timezones=zones),
    st.decimals(allow_nan=False, allow_infinity=False),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(st.text(max_size=8), inner, max_size=4),
        # Dicts shaped like a tag but not one, or tags whose data is itself a container.
        st.fixed_dictionaries({"_type_": st.text(max_size=8), "other": inner}),
        st.fixed_dictionaries({"_data_": inner, "_other_": inner}),
        st.fixed_dictionaries({"_type_": inner | st.sampled_from(NAMES), "_data_": inner}),
    ),
    max_leaves=12,
)
states = st.dictionaries(st.text(max_size=12), values, max_size=6)


def _is_nan(value: Any) -> bool:
    if isinstance(value, Decimal):
        return value.is_nan()
    return isinstance(value, float) and math.isnan(value)


def same(left: Any, right: Any) -> bool:
    """Equality that also holds for NaN (float or Decimal) in the same places, and tells 1 from
    1.0 and True."""
    if type(left) is not type(right):
        return False
    if _is_nan(left):
        return _is_nan(right)
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(same(left[k], right[k]) for k in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(map(same, left, right))
    return bool(left == right)


def outcome(call: Callable[[], Any]) -> tuple[str, Any]:
    """What a call returns, or the class of what it raises: transcoders must agree on both."""
    try:
        return "value", call()
    except Exception as error:
        return "error", type(error)


def same_outcome(left: tuple[str, Any], right: tuple[str, Any]) -> bool:
    return left[0] == right[0] and (
        left[1] is right[1] if left[0] == "error" else same(left[1], right[1])
    )


@settings(max_examples=500, deadline=None)
@given(states)
def test_our_encoding_reads_the_same_through_either_transcoder(state: dict[str, Any]) -> None:
    expected = outcome(lambda: LIBRARY.decode(LIBRARY.encode(state)))
    written = outcome(lambda: OURS.encode(state))
    if written[0] == "error":  # refused alike
        assert same_outcome(written, outcome(lambda: LIBRARY.encode(state)))
        return
    assert same_outcome(outcome(lambda: LIBRARY.decode(written[1])), expected)
    assert same_outcome(outcome(lambda: OURS.decode(written[1])), expected)


@settings(max_examples=500, deadline=None)
@given(states)
def test_events_stored_by_the_library_read_the_same(state: dict[str, Any]) -> None:
    stored = outcome(lambda: LIBRARY.encode(state))
    if stored[0] == "value":
        assert same_outcome(
            outcome(lambda: OURS.decode(stored[1])), outcome(lambda: LIBRARY.decode(stored[1]))
        )


def test_plain_event_state_is_written_byte_for_byte_as_the_library_writes_it() -> None:
    state = {
        "timestamp": datetime(2026, 12, 7, 13, 37, 32, 706874, tzinfo=UTC),
        "reservation_id": uuid.UUID("fd0aadc6-d845-4377-b537-466c5455b526"),
        "amount": 10,
        "reason": "naïve – ünïcode",
        "parts": ("a", 1, None),
        "price": Decimal("9.99"),
    }
    assert OURS.encode(state) == LIBRARY.encode(state)


def test_integers_beyond_64_bits_stay_integers() -> None:
    big = {"coins": 2**64, "debt": -(2**63) - 1, "nested": [{"n": 10**30}]}
    assert OURS.decode(LIBRARY.encode(big)) == big
    assert LIBRARY.decode(OURS.encode(big)) == big


def test_decoded_uuids_are_plain_uuids() -> None:
    value = uuid.uuid4()
    decoded = OURS.decode(LIBRARY.encode({"id": value}))["id"]
    assert type(decoded) is uuid.UUID
    assert decoded == value and hash(decoded) == hash(value) and str(decoded) == str(value)
    assert decoded.is_safe == uuid.SafeUUID.unknown


def test_a_type_nobody_registered_is_refused_as_the_library_refuses_it() -> None:
    class Money:
        pass

    with pytest.raises(TranscodingNotRegisteredError):
        OURS.encode({"money": Money()})
    with pytest.raises(TranscodingNotRegisteredError):
        OURS.decode(b'{"money":{"_type_":"money","_data_":"1"}}')


def test_non_string_keys_are_written_as_the_library_writes_them() -> None:
    state = {"counts": {1: "one", 2.5: "two and a half", None: "none", False: "no"}}
    assert OURS.encode(state) == LIBRARY.encode(state)


def test_the_mapper_stores_what_the_library_mapper_stored_under_the_declared_topic() -> None:
    event = UserRegistered(**next_event_fields(uuid.uuid4(), 0))
    library = Mapper(transcoder=LIBRARY).to_stored_event(event)
    ours = build_mapper().to_stored_event(event)
    assert ours == dataclasses.replace(library, topic=UserRegistered.TOPIC)
