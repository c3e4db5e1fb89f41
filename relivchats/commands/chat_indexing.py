"""Questions' lazy indexing: ask the indexer for a chat's index, once however many ask.

`IndexingRequested` is saved on the chat itself, so racing questions meet at the chat's
version: one wins, the others (decided again by the unit of work) find the request open and
save nothing. A request older than `stale_after` is taken as lost and made again. Each handler
checks the chat is the caller's (404 otherwise) before anything is saved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from relivchats.commands.unit_of_work import UnitOfWork
from relivchats.domain import chats, chats_rules
from relivchats.domain.chats import Chat
from relivchats.domain.events import now


@dataclass(frozen=True)
class IndexingRequest:
    changed: bool  # False: a request was already open
    position: int


def owned_chat(uow: UnitOfWork, chat_id: UUID, owner_id: UUID) -> Chat:
    """The caller's live chat from its events (ChatNotFound: 404)."""
    return chats_rules.owned(uow.load(chat_id, chats.evolve), owner_id)


def request_indexing(
    uow: UnitOfWork, chat_id: UUID, owner_id: UUID, reason: str, stale_after: timedelta
) -> IndexingRequest:
    chat = uow.load(chat_id, chats.evolve)
    uow.record(*chats_rules.request_indexing(chat, owner_id, reason, now(), stale_after))
    saved = uow.save()
    return IndexingRequest(saved.changed, saved.position)


def record_indexing_failed(uow: UnitOfWork, chat_id: UUID, reason: str) -> bool:
    """The indexer gave up on a question's request: it is closed, the next question asks anew."""
    uow.record(*chats_rules.record_indexing_failed(uow.load(chat_id, chats.evolve), reason))
    return uow.save().changed


def record_indexed(uow: UnitOfWork, chat_id: UUID, chunks: int) -> bool:
    """The indexer built (or upgraded) the chat's index: the open request, if any, ends."""
    uow.record(*chats_rules.record_indexed(uow.load(chat_id, chats.evolve), chunks))
    return uow.save().changed
