"""Chat and registration commands on the in-memory store: outcomes, duplicates, conflicts."""

from __future__ import annotations

import uuid

import pytest

from relivchats.adapters.memory_eventstore import InMemoryEventStore
from relivchats.commands.chats import (
    delete_chat,
    earlier_upload,
    mark_purged,
    record_upload,
    set_display_name,
    share_chat,
    unshare_chat,
)
from relivchats.commands.unit_of_work import execute
from relivchats.commands.users import register_user
from relivchats.domain.chats import ChatNotFound
from relivchats.domain.errors import Conflict
from relivchats.domain.events import next_event_fields
from relivchats.domain.users import UserDeletionRequested
from tests.unit.command_world import summary


@pytest.fixture
def store() -> InMemoryEventStore:
    return InMemoryEventStore()


def uploaded(store: InMemoryEventStore, digest: str | None = "d1") -> tuple[uuid.UUID, uuid.UUID]:
    owner, chat_id = uuid.uuid4(), uuid.uuid4()
    assert execute(store, record_upload, chat_id, owner, summary(), digest).changed
    return owner, chat_id


def test_the_same_file_under_the_same_key_answers_the_chat_uploaded_first(store):
    owner, chat_id = uploaded(store)
    head = store.head()

    again = execute(store, record_upload, chat_id, owner, summary(), "d1")
    earlier = execute(store, earlier_upload, chat_id, owner, "d1")

    assert (again.changed, again.position) == (False, head)
    assert earlier is not None and earlier.chat == again.chat
    assert store.head() == head


def test_another_file_under_a_used_key_conflicts(store):
    owner, chat_id = uploaded(store)
    with pytest.raises(Conflict):
        execute(store, earlier_upload, chat_id, owner, "another digest")
    assert execute(store, earlier_upload, uuid.uuid4(), owner, "d1") is None


def test_naming_sharing_and_deleting_change_the_chat_once(store):
    owner, chat_id = uploaded(store)

    named = execute(store, set_display_name, chat_id, owner, "Asha", "Us")
    renamed = execute(store, set_display_name, chat_id, owner, "Asha", "Us")
    shared = execute(store, share_chat, chat_id, owner, "hash")
    unshared = execute(store, unshare_chat, chat_id, owner)
    unshared_again = execute(store, unshare_chat, chat_id, owner)
    deleted = execute(store, delete_chat, chat_id, owner)
    purged = execute(store, mark_purged, chat_id)
    purged_again = execute(store, mark_purged, chat_id)

    assert (named.changed, named.chat.title, named.chat.me_participant) == (True, "Us", "Asha")
    assert (renamed.changed, renamed.position) == (False, named.position)
    assert shared.changed and shared.chat.share_token_hash == "hash"
    assert unshared.changed and unshared.chat.share_token_hash is None
    assert not unshared_again.changed
    assert deleted.changed and deleted.chat.deleted
    assert purged.changed and purged.chat.purged
    assert not purged_again.changed


def test_a_chat_is_not_found_by_a_stranger_nor_when_missing(store):
    _, chat_id = uploaded(store)
    with pytest.raises(ChatNotFound):
        execute(store, delete_chat, chat_id, uuid.uuid4())
    with pytest.raises(ChatNotFound):
        execute(store, mark_purged, uuid.uuid4())


def test_racing_uploads_under_one_key_make_one_chat(store):
    """The loser's append collides on version 1; deciding again, it finds the winner's chat."""
    owner, chat_id = uuid.uuid4(), uuid.uuid4()
    winner_first = summary()
    original_append = store.append

    def winner_appends_first(*events):
        store.append = original_append  # type: ignore[method-assign]
        execute(store, record_upload, chat_id, owner, winner_first, "d1")
        return original_append(*events)

    store.append = winner_appends_first  # type: ignore[method-assign]
    loser = execute(store, record_upload, chat_id, owner, summary(), "d1")

    assert loser.changed is False
    assert loser.chat.content_id == winner_first.content_id
    assert len(store.load(chat_id)) == 1


def test_registration_grants_the_bonus_once(store):
    first = execute(store, register_user, "asha")
    again = execute(store, register_user, "asha")

    assert (first.changed, first.welcome_bonus, first.account.available) == (True, 50, 50)
    assert (again.changed, again.welcome_bonus, again.account.available) == (False, 0, 50)
    assert store.head() == again.position == first.position


def test_registering_after_deletion_opens_the_subjects_next_account(store):
    user_id = execute(store, register_user, "asha").user.id
    store.append(UserDeletionRequested(**next_event_fields(user_id, 1)))

    again = execute(store, register_user, "asha")

    assert again.user.id != user_id and again.user.generation == 2
