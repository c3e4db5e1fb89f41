"""Personal fields in events: sealed with the owner's data key, bound to where they are, erased
with the key. Runs on an in-memory key ring (the real one is a table: adapters/data_keys.py)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import orjson
import pytest

from relivchats.adapters.crypto import ContentTampered
from relivchats.adapters.data_keys import DataKeyDestroyed, InMemoryDataKeys
from relivchats.adapters.eventstore import build_mapper
from relivchats.domain.chats import ChatUploaded, DisplayNameSet
from relivchats.domain.events import next_event_fields
from relivchats.domain.personal import ERASED

CANARY = ("Zorblax Quentyn", "Mirabel Okonkwo")


def uploaded(owner: uuid.UUID) -> ChatUploaded:
    return ChatUploaded(
        **next_event_fields(uuid.uuid4(), 0),
        owner_id=owner,
        title=" & ".join(CANARY),
        participants=CANARY,
        is_group=False,
        message_count=2,
        first_message_at=datetime(2024, 1, 1, 9, 0),
        last_message_at=datetime(2024, 1, 1, 9, 5),
        content_id=uuid.uuid4(),
        upload_digest=None,
    )


@pytest.fixture
def keys() -> InMemoryDataKeys:
    return InMemoryDataKeys()


def mapper_with(keys: InMemoryDataKeys) -> Any:
    return build_mapper(keys)


def test_personal_fields_are_stored_sealed_and_read_back_in_clear(keys) -> None:
    mapper, event = mapper_with(keys), uploaded(uuid.uuid4())

    stored = mapper.to_stored_event(event)

    assert not any(name.encode() in stored.state for name in CANARY)
    state = orjson.loads(stored.state)
    assert state["title"].startswith("sealed:v1:") and state["participants"].startswith("sealed:")
    assert state["message_count"] == 2 and state["owner_id"]["_data_"] == event.owner_id.hex
    assert mapper.to_domain_event(stored) == event


def test_after_the_key_is_destroyed_the_fields_read_as_erased(keys) -> None:
    mapper, owner = mapper_with(keys), uuid.uuid4()
    stored = mapper.to_stored_event(uploaded(owner))
    renamed = DisplayNameSet(
        **next_event_fields(uuid.uuid4(), 1), me_participant=CANARY[0], title="us", owner_id=owner
    )
    stored_rename = mapper.to_stored_event(renamed)

    keys.destroy(owner)

    erased = mapper.to_domain_event(stored)
    assert (erased.title, erased.participants, erased.message_count) == (ERASED, (), 2)
    assert mapper.to_domain_event(stored_rename).me_participant is None
    with pytest.raises(DataKeyDestroyed):
        mapper.to_stored_event(uploaded(owner))


def test_a_sealed_field_copied_to_another_event_does_not_open(keys) -> None:
    mapper, owner = mapper_with(keys), uuid.uuid4()
    first, second = (mapper.to_stored_event(uploaded(owner)) for _ in range(2))
    swapped = orjson.loads(second.state)
    swapped["title"] = orjson.loads(first.state)["title"]

    with pytest.raises(ContentTampered):
        mapper.to_domain_event(
            type(second)(
                originator_id=second.originator_id,
                originator_version=second.originator_version,
                topic=second.topic,
                state=orjson.dumps(swapped),
            )
        )


def test_events_stored_in_clear_before_sealing_are_read_as_they_are(keys) -> None:
    event = uploaded(uuid.uuid4())
    stored_in_clear = build_mapper(None).to_stored_event(
        DisplayNameSet(**next_event_fields(event.originator_id, 1), me_participant="A", title="t")
    )

    assert mapper_with(keys).to_domain_event(stored_in_clear).title == "t"
