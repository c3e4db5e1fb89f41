"""Domain events to stored events and back: the library's `Mapper`, minus its per-event detours.

Each stored event carries its class's declared `TOPIC` (never a module path), so classes can
move without orphaning stored events. Writing builds the `StoredEvent` once (the library's
mapper resolved the topic by module path, and replacing it afterwards copied the dataclass
again, about a third of mapping an event). Reading, transcoding, compression and encryption are
the library's, unchanged.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent


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
