"""What each chat command decides: pure functions from the chat's state to the events to save.

Each returns the events of one save (an empty list when the command was already carried out,
so a repeated command changes nothing) or raises a domain error. Every command on a chat is its
owner's (`owned`): anyone else, like a deleted chat, finds nothing (`ChatNotFound`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from relivchats.domain.chats import (
    Chat,
    ChatDeleted,
    ChatIndexed,
    ChatNotFound,
    ChatPurged,
    ChatShared,
    ChatUnshared,
    ChatUploaded,
    DisplayNameSet,
    IndexingFailed,
    IndexingRequested,
)
from relivchats.domain.errors import Conflict, InvalidCommand
from relivchats.domain.events import Event, next_event_fields
from relivchats.domain.statistics import chat_title, is_group_chat

MAX_TITLE_CHARS = 120


@dataclass(frozen=True)
class UploadSummary:
    """What parsing established about an upload: everything the event needs."""

    participants: tuple[str, ...]
    message_count: int
    first_message_at: datetime
    last_message_at: datetime
    content_id: UUID


def owned(state: Chat | None, owner_id: UUID) -> Chat:
    """The owner's live chat; missing, deleted and other people's chats are all not found."""
    if state is None or state.deleted or state.owner_id != owner_id:
        raise ChatNotFound()
    return state


def replayed_upload(state: Chat | None, owner_id: UUID, upload_digest: str | None) -> Chat | None:
    """The chat a repeated upload (same Idempotency-Key) refers to, if the key was used before."""
    if state is None:
        return None
    if state.owner_id != owner_id:  # cannot happen with keyed ids; never leak another's chat
        raise ChatNotFound()
    if state.deleted:
        raise Conflict("this Idempotency-Key named a chat that has been deleted; use a new key")
    if upload_digest is None or state.upload_digest != upload_digest:
        raise Conflict(
            "this Idempotency-Key was already used for a different file", chat_id=str(state.id)
        )
    return state


def upload(
    state: Chat | None,
    chat_id: UUID,
    owner_id: UUID,
    summary: UploadSummary,
    upload_digest: str | None,
) -> list[Event]:
    if replayed_upload(state, owner_id, upload_digest) is not None:
        return []
    return [
        ChatUploaded(
            **next_event_fields(chat_id, 0),
            owner_id=owner_id,
            title=chat_title(summary.participants),
            participants=summary.participants,
            is_group=is_group_chat(summary.participants),
            message_count=summary.message_count,
            first_message_at=summary.first_message_at,
            last_message_at=summary.last_message_at,
            content_id=summary.content_id,
            upload_digest=upload_digest,
        )
    ]


def set_display_name(
    state: Chat | None, owner_id: UUID, *, me_participant: str | None, title: str | None
) -> list[Event]:
    """Say which participant the owner is and/or rename the chat; a field left None is kept."""
    chat = owned(state, owner_id)
    if me_participant is None and title is None:
        raise InvalidCommand("give me_participant, title, or both")
    if me_participant is not None and me_participant not in chat.participants:
        raise InvalidCommand(
            "me_participant must be one of the chat's participants", participants=chat.participants
        )
    new_title = chat.title if title is None else title.strip()
    if not new_title or len(new_title) > MAX_TITLE_CHARS:
        raise InvalidCommand(f"a title has 1 to {MAX_TITLE_CHARS} characters")
    new_me = chat.me_participant if me_participant is None else me_participant
    if (new_me, new_title) == (chat.me_participant, chat.title):
        return []
    fields = next_event_fields(chat.id, chat.version)
    return [
        DisplayNameSet(**fields, me_participant=new_me, title=new_title, owner_id=chat.owner_id)
    ]


def share(state: Chat | None, owner_id: UUID, share_token_hash: str) -> list[Event]:
    """Share under a new token; an older token stops working."""
    chat = owned(state, owner_id)
    return [
        ChatShared(**next_event_fields(chat.id, chat.version), share_token_hash=share_token_hash)
    ]


def unshare(state: Chat | None, owner_id: UUID) -> list[Event]:
    chat = owned(state, owner_id)
    if chat.share_token_hash is None:
        return []
    return [ChatUnshared(**next_event_fields(chat.id, chat.version))]


def delete(state: Chat | None, owner_id: UUID) -> list[Event]:
    chat = owned(state, owner_id)
    return [ChatDeleted(**next_event_fields(chat.id, chat.version))]


def purge(state: Chat | None) -> list[Event]:
    """Record that a deleted chat's content is gone; once, and only after the deletion."""
    if state is None or not state.deleted or state.purged:
        return []
    return [ChatPurged(**next_event_fields(state.id, state.version))]


def request_indexing(
    state: Chat | None, owner_id: UUID, reason: str, at: datetime, stale_after: timedelta
) -> list[Event]:
    """Ask the indexer for the chat's index, unless a request younger than `stale_after` is open
    (an older one is taken as lost: its task was dropped or its worker gone for good)."""
    chat = owned(state, owner_id)
    requested = chat.indexing_requested_at
    if requested is not None and at - requested < stale_after:
        return []
    return [IndexingRequested(**next_event_fields(chat.id, chat.version), reason=reason)]


def record_indexed(state: Chat | None, chunks: int) -> list[Event]:
    if state is None or state.deleted:
        return []
    if state.indexed_chunks == chunks and state.indexing_requested_at is None:
        return []
    return [ChatIndexed(**next_event_fields(state.id, state.version), chunks=chunks)]


def record_indexing_failed(state: Chat | None, reason: str) -> list[Event]:
    if state is None or state.deleted:
        return []
    return [IndexingFailed(**next_event_fields(state.id, state.version), reason=reason)]
