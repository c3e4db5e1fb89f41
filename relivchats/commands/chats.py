"""Chat commands: load the chat, decide (domain/chats_rules.py), save, through the unit of work.

They return the chat as the command left it plus the log position, never a read-model row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from relivchats.commands.unit_of_work import UnitOfWork
from relivchats.domain import chats, chats_rules
from relivchats.domain.chats import Chat
from relivchats.domain.chats_rules import UploadSummary
from relivchats.domain.events import Event

Decision = Callable[[Chat | None], list[Event]]


@dataclass(frozen=True)
class ChatChange:
    chat: Chat
    changed: bool
    position: int


@dataclass(frozen=True)
class RecordedUpload:
    chat: Chat
    changed: bool  # False: the Idempotency-Key named a chat already uploaded with this file
    position: int


def earlier_upload(
    uow: UnitOfWork, chat_id: UUID, owner_id: UUID, upload_digest: str | None
) -> RecordedUpload | None:
    """The chat an Idempotency-Key already names, if this is the same file again (else 409)."""
    chat = chats_rules.replayed_upload(uow.load(chat_id, chats.evolve), owner_id, upload_digest)
    return None if chat is None else RecordedUpload(chat, False, uow.save().position)


def record_upload(
    uow: UnitOfWork,
    chat_id: UUID,
    owner_id: UUID,
    summary: UploadSummary,
    upload_digest: str | None,
) -> RecordedUpload:
    """Save `ChatUploaded` naming the stored content, unless the key's chat already exists."""
    state = uow.load(chat_id, chats.evolve)
    uow.record(*chats_rules.upload(state, chat_id, owner_id, summary, upload_digest))
    change = _saved(uow, chat_id)
    return RecordedUpload(change.chat, change.changed, change.position)


def set_display_name(
    uow: UnitOfWork,
    chat_id: UUID,
    owner_id: UUID,
    me_participant: str | None,
    title: str | None,
) -> ChatChange:
    return _change(
        uow,
        chat_id,
        lambda state: chats_rules.set_display_name(
            state, owner_id, me_participant=me_participant, title=title
        ),
    )


def share_chat(uow: UnitOfWork, chat_id: UUID, owner_id: UUID, token_hash: str) -> ChatChange:
    return _change(uow, chat_id, lambda state: chats_rules.share(state, owner_id, token_hash))


def unshare_chat(uow: UnitOfWork, chat_id: UUID, owner_id: UUID) -> ChatChange:
    return _change(uow, chat_id, lambda state: chats_rules.unshare(state, owner_id))


def delete_chat(uow: UnitOfWork, chat_id: UUID, owner_id: UUID) -> ChatChange:
    return _change(uow, chat_id, lambda state: chats_rules.delete(state, owner_id))


def mark_purged(uow: UnitOfWork, chat_id: UUID) -> ChatChange:
    return _change(uow, chat_id, chats_rules.purge)


def _change(uow: UnitOfWork, chat_id: UUID, decide: Decision) -> ChatChange:
    uow.record(*decide(uow.load(chat_id, chats.evolve)))
    return _saved(uow, chat_id)


def _saved(uow: UnitOfWork, chat_id: UUID) -> ChatChange:
    saved = uow.save()
    chat = uow.load(chat_id, chats.evolve)
    if chat is None:
        raise chats.ChatNotFound()
    return ChatChange(chat, saved.changed, saved.position)
