"""Questions' lazy indexing: ask the indexer for a chat's index, once however many ask.

`IndexingRequested` is appended to the chat itself, so racing questions meet at the chat's
version: one wins, the others reload, find the request open and append nothing. A request
older than `stale_after` is taken as lost and made again. Checks the chat is the caller's
(404 otherwise) before anything is appended.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from relivchats.adapters.eventstore import EventStore
from relivchats.commands.chats import load_chat
from relivchats.commands.retry import with_retries
from relivchats.domain import chats
from relivchats.domain.chats import Chat
from relivchats.domain.events import now


@dataclass(frozen=True)
class IndexingRequest:
    requested: bool  # False: a request was already open
    position: int


def owned_chat(store: EventStore, chat_id: UUID, owner_id: UUID) -> Chat:
    """The caller's live chat from its events (ChatNotFound: 404)."""
    return chats.owned(load_chat(store, chat_id), owner_id)


def request_indexing(
    store: EventStore, chat_id: UUID, owner_id: UUID, reason: str, stale_after: timedelta
) -> IndexingRequest:
    def append_request() -> IndexingRequest:
        state = load_chat(store, chat_id)
        events = chats.request_indexing(state, owner_id, reason, now(), stale_after)
        if not events:
            return IndexingRequest(False, store.head())
        return IndexingRequest(True, store.append(*events))

    return with_retries(store, append_request)
