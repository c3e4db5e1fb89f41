"""The Chat aggregate's rules: ownership, idempotent uploads, names, sharing, deletion, purge."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from relivchats.domain import chats, chats_rules
from relivchats.domain.chats import (
    Chat,
    ChatDeleted,
    ChatNotFound,
    ChatPurged,
    ChatShared,
    ChatUnshared,
    DisplayNameSet,
)
from relivchats.domain.chats_rules import UploadSummary
from relivchats.domain.errors import Conflict, InvalidCommand
from relivchats.domain.events import Event, fold, next_event_fields

OWNER = uuid.uuid4()
STRANGER = uuid.uuid4()


def summary(participants: tuple[str, ...] = ("Asha", "Ben")) -> UploadSummary:
    return UploadSummary(
        participants, 10, datetime(2024, 1, 1, 9), datetime(2024, 1, 2, 10), uuid.uuid4()
    )


def uploaded(digest: str | None = "digest-1", **options: object) -> tuple[Chat, list[Event]]:
    events = chats_rules.upload(None, uuid.uuid4(), OWNER, summary(**options), digest)  # type: ignore[arg-type]
    state = chats.replay(events)
    assert state is not None
    return state, events


def then(state: Chat, events: list[Event]) -> Chat:
    after = fold(chats.evolve, events, state) if events else state
    assert after is not None
    return after


def test_upload_records_title_group_and_content_without_any_text() -> None:
    chat, events = uploaded(participants=("Asha", "Ben", "Chen"))

    assert (chat.title, chat.is_group, chat.message_count) == ("Group chat (3)", True, 10)
    assert [type(e) for e in events] == [chats.ChatUploaded]
    assert chat.owner_id == OWNER


def test_the_same_key_and_file_again_records_nothing() -> None:
    chat, _ = uploaded()
    assert chats_rules.upload(chat, chat.id, OWNER, summary(), "digest-1") == []


def test_the_same_key_with_another_file_is_a_conflict() -> None:
    chat, _ = uploaded()
    with pytest.raises(Conflict):
        chats_rules.upload(chat, chat.id, OWNER, summary(), "digest-2")


def test_the_key_of_a_deleted_chat_cannot_be_reused() -> None:
    chat, _ = uploaded()
    deleted = then(chat, chats_rules.delete(chat, OWNER))
    with pytest.raises(Conflict):
        chats_rules.upload(deleted, chat.id, OWNER, summary(), "digest-1")


@pytest.mark.parametrize(
    "command",
    [
        lambda chat, who: chats_rules.set_display_name(
            chat, who, me_participant="Asha", title=None
        ),
        lambda chat, who: chats_rules.share(chat, who, "hash"),
        lambda chat, who: chats_rules.unshare(chat, who),
        lambda chat, who: chats_rules.delete(chat, who),
    ],
)
def test_another_users_missing_or_deleted_chat_is_not_found(command) -> None:
    chat, _ = uploaded()
    deleted = then(chat, chats_rules.delete(chat, OWNER))
    for state, who in ((chat, STRANGER), (None, OWNER), (deleted, OWNER)):
        with pytest.raises(ChatNotFound):
            command(state, who)


def test_display_name_keeps_what_is_not_given_and_refuses_strangers_to_the_chat() -> None:
    chat, _ = uploaded()
    named = then(chat, chats_rules.set_display_name(chat, OWNER, me_participant="Ben", title=None))
    renamed = then(
        named, chats_rules.set_display_name(named, OWNER, me_participant=None, title=" Us ")
    )

    assert (renamed.me_participant, renamed.title) == ("Ben", "Us")
    assert chats_rules.set_display_name(renamed, OWNER, me_participant="Ben", title="Us") == []
    with pytest.raises(InvalidCommand):
        chats_rules.set_display_name(chat, OWNER, me_participant="Zed", title=None)
    with pytest.raises(InvalidCommand):
        chats_rules.set_display_name(chat, OWNER, me_participant=None, title=None)


def test_sharing_again_replaces_the_token_and_unsharing_twice_records_once() -> None:
    chat, _ = uploaded()
    shared = then(chat, chats_rules.share(chat, OWNER, "first"))
    reshared = then(shared, chats_rules.share(shared, OWNER, "second"))
    unshared_events = chats_rules.unshare(reshared, OWNER)
    unshared = then(reshared, unshared_events)

    assert reshared.share_token_hash == "second"
    assert [type(e) for e in unshared_events] == [ChatUnshared]
    assert chats_rules.unshare(unshared, OWNER) == []


def test_deleting_ends_the_share_and_purge_is_recorded_once_after_it() -> None:
    chat, _ = uploaded()
    shared = then(chat, chats_rules.share(chat, OWNER, "token-hash"))
    assert chats_rules.purge(shared) == []  # not deleted: nothing to purge

    deleted = then(shared, chats_rules.delete(shared, OWNER))
    purge = chats_rules.purge(deleted)
    purged = then(deleted, purge)

    assert deleted.share_token_hash is None
    assert [type(e) for e in purge] == [ChatPurged]
    assert chats_rules.purge(purged) == []


def test_indexing_outcomes_of_a_deleted_chat_are_not_recorded() -> None:
    chat, _ = uploaded()
    deleted = then(chat, [ChatDeleted(**next_event_fields(chat.id, chat.version))])

    assert chats_rules.record_indexed(deleted, 12) == []
    assert chats_rules.record_indexing_failed(deleted, "embedder_down") == []
    indexed = then(chat, chats_rules.record_indexed(chat, 12))
    assert indexed.indexed_chunks == 12
    assert chats_rules.record_indexed(indexed, 12) == []


def test_event_types_carry_their_stable_topics() -> None:
    assert DisplayNameSet.TOPIC == "chats.DisplayNameSet.v1"
    assert ChatShared.TOPIC == "chats.ChatShared.v1"
