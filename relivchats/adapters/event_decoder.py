"""Stored events of plain classes straight to domain events: the read path projections follow.

The mapper (`mapper.py`) decodes any stored event: it walks the whole JSON document looking for
tagged values, then builds the event. For most event classes the stored form of every field is
known from the class itself: a UUID is a `uuid_hex` tag, a datetime a `datetime_iso` tag, an int
or a string is itself. `PlainEventDecoder` precomputes that plan per class and decodes a state in
one `orjson.loads` and one pass over the plan, with no `StoredEvent` and no per-event lookups
(about a third of the cost of the general path; it is most of what a projection rebuild does).

A class is plain when it has no personal fields (those are sealed, `personal_fields.py`), no class
version to upcast, and only fields of JSON scalar types, UUIDs and datetimes, each maybe None.
Anything the plan does not expect (a missing or extra key, another tag, a float that may be a
misread big integer) answers None, and the caller takes the mapper's path, which decodes exactly
as before: both paths give equal events (tests/unit/test_event_decoder.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints
from uuid import UUID

import orjson
from eventsourcing.persistence import Mapper

from relivchats.adapters.transcoder import OrjsonTranscoder
from relivchats.domain.events import EVENT_CLASSES

# JSON that decodes to itself; floats are not among them (the transcoder checks each one).
_PLAIN_JSON = frozenset((str, int, bool, type(None)))
_TAGS = {UUID: "uuid_hex", datetime: "datetime_iso"}
_HEADER = frozenset(("originator_id", "originator_version"))
_new_event = object.__new__
_set_attribute = object.__setattr__

# How one field is stored: its name; None for plain JSON, else its tag and the tag's decoder;
# whether it may be None.
Field = tuple[str, tuple[str, Callable[[str], Any]] | None, bool]


@dataclasses.dataclass(frozen=True)
class Plan:
    event_class: type
    names: frozenset[str]
    plain: tuple[str, ...]  # fields stored as JSON that decodes to itself
    tagged: tuple[tuple[str, str, Callable[[str], Any], bool], ...]  # name, tag, decoder, optional

    @classmethod
    def of(cls, event_class: type, fields: tuple[Field, ...]) -> Plan:
        return cls(
            event_class,
            frozenset(name for name, _, _ in fields),
            tuple(name for name, tagged, _ in fields if tagged is None),
            tuple((name, *tagged, optional) for name, tagged, optional in fields if tagged),
        )


class PlainEventDecoder:
    def __init__(self, transcoder: OrjsonTranscoder):
        tag_decoders = transcoder.tag_decoders()
        self._plans: dict[str, Plan] = {}
        for topic, event_class in EVENT_CLASSES.items():
            fields = plan_of(event_class, tag_decoders)
            if fields is not None:
                self._plans[topic] = Plan.of(event_class, fields)

    @classmethod
    def of(cls, mapper: Mapper[UUID]) -> PlainEventDecoder | None:
        """A decoder for what `mapper` writes; None when its events need the mapper's path."""
        transcoder = mapper.transcoder
        if mapper.cipher or mapper.compressor or not isinstance(transcoder, OrjsonTranscoder):
            return None
        return cls(transcoder)

    def decodes(self, topic: str) -> bool:
        """Whether events of this topic are plain (and so hold no sealed personal fields)."""
        return topic in self._plans

    def decode(self, topic: str, originator_id: UUID, version: int, state: bytes) -> Any | None:
        """The event, or None when the general path must decode it."""
        plan = self._plans.get(topic)
        if plan is None:
            return None
        try:
            values = orjson.loads(state)
        except orjson.JSONDecodeError:  # e.g. NaN, which only the library's json reads
            return None
        if type(values) is not dict or values.keys() != plan.names:
            return None
        for name in plan.plain:
            if type(values[name]) not in _PLAIN_JSON:
                return None
        for name, tag, decode, optional in plan.tagged:
            value = values[name]
            if type(value) is dict:
                data = value.get("_data_")
                if type(data) is not str or len(value) != 2 or value.get("_type_") != tag:
                    return None
                values[name] = decode(data)
            elif value is not None or not optional:
                return None
        values["originator_id"] = originator_id
        values["originator_version"] = version
        event: Any = _new_event(plan.event_class)
        _set_attribute(event, "__dict__", values)
        return event


def plan_of(
    event_class: type, tag_decoders: dict[str, Callable[[str], Any]]
) -> tuple[Field, ...] | None:
    """How each field of the class is stored; None when the class is not plain."""
    if getattr(event_class, "PERSONAL", None) or getattr(event_class, "class_version", 1) > 1:
        return None
    hints = get_type_hints(event_class)
    fields: list[Field] = []
    for field in dataclasses.fields(event_class):
        if field.name in _HEADER:
            continue
        kind = _stored_as(hints[field.name], tag_decoders)
        if kind is None:
            return None
        fields.append((field.name, *kind))
    return tuple(fields)


def _stored_as(
    annotation: Any, tag_decoders: dict[str, Callable[[str], Any]]
) -> tuple[tuple[str, Callable[[str], Any]] | None, bool] | None:
    arguments = get_args(annotation)
    optional = get_origin(annotation) in (Union, UnionType) and type(None) in arguments
    if optional:
        others = [argument for argument in arguments if argument is not type(None)]
        if len(others) != 1:
            return None
        annotation = others[0]
    if get_origin(annotation) is Literal:
        plain = all(type(value) in _PLAIN_JSON for value in get_args(annotation))
        return (None, optional) if plain else None
    tag = _TAGS.get(annotation)
    if tag is not None and tag in tag_decoders:
        return (tag, tag_decoders[tag]), optional
    if annotation in _PLAIN_JSON:
        return None, optional
    return None
