"""Domain events to stored events and back: the library's `Mapper`, minus its per-event detours.

Each stored event carries its class's declared `TOPIC` (never a module path), so classes can
move without orphaning stored events. Writing builds the `StoredEvent` once (the library's
mapper resolved the topic by module path, and replacing it afterwards copied the dataclass
again, about a third of mapping an event). Reading finds the class in the domain's registry of
topics and skips the library's per-event lookups when nothing needs them (no cipher, compressor
or class version to upcast); otherwise, and for topics we do not know, it is the library's.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent

from relivchats.domain.events import EVENT_CLASSES

_new_event = object.__new__
_set_attribute = object.__setattr__


class TopicMapper(Mapper[UUID]):
    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        event_class = type(domain_event)
        state = dict(vars(domain_event))
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
        class_version = getattr(event_class, "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        stored_state = self.transcoder.encode(state)
        if self.compressor:
            stored_state = self.compressor.compress(stored_state)
        if self.cipher:
            stored_state = self.cipher.encrypt(stored_state)
        return StoredEvent(originator_id, originator_version, event_class.TOPIC, stored_state)

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        event_class = EVENT_CLASSES.get(stored_event.topic)
        if (
            event_class is None
            or self.cipher
            or self.compressor
            or getattr(event_class, "class_version", 1) > 1
            or not isinstance(stored_event.originator_id, UUID)
        ):
            return super().to_domain_event(stored_event)
        state: dict[str, Any] = self.transcoder.decode(stored_event.state)
        state.pop("class_version", None)
        state["originator_id"] = stored_event.originator_id
        state["originator_version"] = stored_event.originator_version
        event = _new_event(event_class)
        _set_attribute(event, "__dict__", state)
        return event
