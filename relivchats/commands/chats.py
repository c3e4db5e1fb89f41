"""Chat commands: load the chat, decide (domain/chats.py), append; retried on version conflicts.

Each runs synchronously: in the API through `AsyncEventStore.command`, in workers directly.
They return the chat as the command left it plus the log position, never a read-model row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from relivchats.adapters.eventstore import EventStore
from relivchats.commands.retry import with_retries
from relivchats.domain import chats
from relivchats.domain.chats import Chat, UploadSummary
from relivchats.domain.events import Event, fold

Decision = Callable[[Chat | None], list[Event]]


@dataclass(frozen=True)
class ChatChange:
    chat: Chat
    changed: bool
    position: int


@dataclass(frozen=True)
class RecordedUpload:
    chat: Chat
    created: bool  # False: the Idempotency-Key named a chat already uploaded with this file
    position: int


def load_chat(store: EventStore, chat_id: UUID) -> Chat | None:
    return chats.replay(store.load(chat_id))


def earlier_upload(
    store: EventStore, chat_id: UUID, owner_id: UUID, upload_digest: str | None
) -> RecordedUpload | None:
    """The chat an Idempotency-Key already names, if this is the same file again (else 409)."""
    chat = chats.replayed_upload(load_chat(store, chat_id), owner_id, upload_digest)
    return None if chat is None else RecordedUpload(chat, False, store.head())


def record_upload(
    store: EventStore,
    chat_id: UUID,
    owner_id: UUID,
    summary: UploadSummary,
    upload_digest: str | None,
) -> RecordedUpload:
    """Append `ChatUploaded` naming the stored content, unless the key's chat already exists."""

    def attempt() -> RecordedUpload:
        state = load_chat(store, chat_id)
        events = chats.upload(state, chat_id, owner_id, summary, upload_digest)
        if not events:
            assert state is not None
            return RecordedUpload(state, False, store.head())
        position = store.append(*events)
        return RecordedUpload(_evolved(state, events), True, position)

    return with_retries(store, attempt)


def set_display_name(
    store: EventStore,
    chat_id: UUID,
    owner_id: UUID,
    me_participant: str | None,
    title: str | None,
) -> ChatChange:
    return _change(
        store,
        chat_id,
        lambda state: chats.set_display_name(
            state, owner_id, me_participant=me_participant, title=title
        ),
    )


def share_chat(store: EventStore, chat_id: UUID, owner_id: UUID, token_hash: str) -> ChatChange:
    return _change(store, chat_id, lambda state: chats.share(state, owner_id, token_hash))


def unshare_chat(store: EventStore, chat_id: UUID, owner_id: UUID) -> ChatChange:
    return _change(store, chat_id, lambda state: chats.unshare(state, owner_id))


def delete_chat(store: EventStore, chat_id: UUID, owner_id: UUID) -> ChatChange:
    return _change(store, chat_id, lambda state: chats.delete(state, owner_id))


def mark_purged(store: EventStore, chat_id: UUID) -> ChatChange:
    return _change(store, chat_id, chats.purge)


def record_indexed(store: EventStore, chat_id: UUID, chunks: int) -> ChatChange:
    return _change(store, chat_id, lambda state: chats.record_indexed(state, chunks))


def record_indexing_failed(store: EventStore, chat_id: UUID, reason: str) -> ChatChange:
    return _change(store, chat_id, lambda state: chats.record_indexing_failed(state, reason))


def _change(store: EventStore, chat_id: UUID, decide: Decision) -> ChatChange:
    def attempt() -> ChatChange:
        state = load_chat(store, chat_id)
        events = decide(state)
        if not events:
            if state is None:
                raise chats.ChatNotFound()
            return ChatChange(state, False, store.head())
        return ChatChange(_evolved(state, events), True, store.append(*events))

    return with_retries(store, attempt)


def _evolved(state: Chat | None, events: list[Event]) -> Chat:
    chat = fold(chats.evolve, events, state)
    assert chat is not None
    return chat
