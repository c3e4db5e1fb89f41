"""The base of every stored domain event: explicit, stable topics and a pure fold.

Every event class names its own `TOPIC`. The topic is what the event store writes, so classes can
move between modules without orphaning stored events. Aggregates are plain frozen state plus an
`evolve(state, event)` fold: the same fold serves commands, projections and the auditor's replay.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

from eventsourcing.domain import DomainEvent
from eventsourcing.utils import register_topic

# Namespace for every deterministic id (uuid5) in RelivChats. Never change it.
NAMESPACE = uuid.UUID("6f1d3c2e-8a4b-5c7d-9e0f-1a2b3c4d5e6f")

S = TypeVar("S")

EVENT_CLASSES: dict[str, type[Event]] = {}


def deterministic_id(*parts: object) -> uuid.UUID:
    """uuid5 over the parts, so the same business key always names the same aggregate."""
    return uuid.uuid5(NAMESPACE, "/".join(str(part) for part in parts))


def now() -> datetime:
    return datetime.now(tz=UTC)


@dataclass(frozen=True)
class Event(DomainEvent):
    """A recorded fact. Subclasses are frozen dataclasses with a unique, stable TOPIC."""

    TOPIC: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        topic = cls.__dict__.get("TOPIC")
        if not topic:
            return  # an abstract intermediate class
        if topic in EVENT_CLASSES and EVENT_CLASSES[topic] is not cls:
            raise TypeError(f"event topic {topic!r} is already taken")
        EVENT_CLASSES[topic] = cls
        register_topic(topic, cls)


def next_event_fields(originator_id: uuid.UUID, version: int) -> dict[str, Any]:
    """The three header fields of the event that follows `version` on one aggregate."""
    return {"originator_id": originator_id, "originator_version": version + 1, "timestamp": now()}


def fold(
    evolve: Callable[[S | None, Event], S], events: Iterable[Event], state: S | None = None
) -> S | None:
    """Rebuild an aggregate's state from its events: the one pure replay everyone shares."""
    for event in events:
        state = evolve(state, event)
    return state
