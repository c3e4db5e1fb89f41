"""The Chat aggregate: an uploaded export's life from upload to purge.

Events hold metadata only. The messages and the statistics (which quote the chat: top words,
emoji, links, the longest message) live encrypted in content tables under `content_id`; the
`ChatUploaded` event names that content, so a chat is whatever its events say and content that
no event names is an orphan for the purge task. An upload sent with an `Idempotency-Key` is
keyed by (owner, key): the same key names the same chat, and `upload_digest` (a keyed digest of
the uploaded bytes) tells "the same file again" from "another file under a used key".

Every command on a chat is its owner's: anyone else, like a deleted chat, finds nothing
(`ChatNotFound`), so the API can answer 404 without revealing that the chat exists. What each
command decides lives in `chats_rules.py`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import ClassVar
from uuid import UUID

from relivchats.domain.errors import NotFound
from relivchats.domain.events import Event, deterministic_id, fold
from relivchats.domain.personal import ERASED, PersonalFields


def chat_id_for(owner_id: UUID, idempotency_key: str) -> UUID:
    return deterministic_id("chat", owner_id, idempotency_key)


class ChatNotFound(NotFound):
    code = "chat_not_found"

    def __init__(self) -> None:
        super().__init__("no such chat")


@dataclass(frozen=True)
class ChatUploaded(Event):
    TOPIC = "chats.ChatUploaded.v1"
    PERSONAL: ClassVar[PersonalFields] = PersonalFields(
        owner="owner_id", erased={"title": ERASED, "participants": ()}
    )
    owner_id: UUID
    title: str
    participants: tuple[str, ...]
    is_group: bool
    message_count: int
    first_message_at: datetime  # naive local times, as the export wrote them
    last_message_at: datetime
    content_id: UUID  # messages and encrypted statistics in the content tables
    upload_digest: str | None  # keyed digest of the uploaded bytes, with an Idempotency-Key


@dataclass(frozen=True)
class DisplayNameSet(Event):
    TOPIC = "chats.DisplayNameSet.v1"
    PERSONAL: ClassVar[PersonalFields] = PersonalFields(
        owner="owner_id", erased={"me_participant": None, "title": ERASED}
    )
    me_participant: str | None
    title: str
    # Whose personal data this is (its key seals the fields); None on events before 009.
    owner_id: UUID | None = field(default=None, kw_only=True)


@dataclass(frozen=True)
class IndexingRequested(Event):
    """A question found the chat without a usable index: the indexer builds (or upgrades) it.

    Racing questions meet at the chat's version, so one request, and one indexing task, exists
    however many ask at once; `ChatIndexed` or `IndexingFailed` ends it.
    """

    TOPIC = "chats.IndexingRequested.v1"
    reason: str  # "unindexed" or "payload_upgrade": never chat content


@dataclass(frozen=True)
class ChatIndexed(Event):
    TOPIC = "chats.ChatIndexed.v1"
    chunks: int


@dataclass(frozen=True)
class IndexingFailed(Event):
    TOPIC = "chats.IndexingFailed.v1"
    reason: str  # an error code, never chat content


@dataclass(frozen=True)
class ChatShared(Event):
    """Only the SHA-256 of the share token is recorded; the token is shown to the owner once."""

    TOPIC = "chats.ChatShared.v1"
    share_token_hash: str


@dataclass(frozen=True)
class ChatUnshared(Event):
    TOPIC = "chats.ChatUnshared.v1"


@dataclass(frozen=True)
class ChatDeleted(Event):
    TOPIC = "chats.ChatDeleted.v1"


@dataclass(frozen=True)
class ChatPurged(Event):
    """The chat's content (messages, statistics, later its vectors) has been erased."""

    TOPIC = "chats.ChatPurged.v1"


@dataclass(frozen=True)
class Chat:
    id: UUID
    version: int
    owner_id: UUID
    title: str
    participants: tuple[str, ...]
    is_group: bool
    message_count: int
    first_message_at: datetime
    last_message_at: datetime
    content_id: UUID
    upload_digest: str | None
    uploaded_at: datetime
    me_participant: str | None = None
    share_token_hash: str | None = None
    indexed_chunks: int | None = None
    indexing_failure: str | None = None
    indexing_requested_at: datetime | None = None  # an open request (questions' lazy indexing)
    deleted: bool = False
    purged: bool = False


def evolve(state: Chat | None, event: Event) -> Chat:
    if isinstance(event, ChatUploaded):
        return Chat(
            id=event.originator_id,
            version=event.originator_version,
            owner_id=event.owner_id,
            title=event.title,
            participants=tuple(event.participants),
            is_group=event.is_group,
            message_count=event.message_count,
            first_message_at=event.first_message_at,
            last_message_at=event.last_message_at,
            content_id=event.content_id,
            upload_digest=event.upload_digest,
            uploaded_at=event.timestamp,
        )
    assert state is not None, f"{type(event).__name__} before ChatUploaded"
    state = replace(state, version=event.originator_version)
    if isinstance(event, DisplayNameSet):
        return replace(state, me_participant=event.me_participant, title=event.title)
    if isinstance(event, IndexingRequested):
        return replace(state, indexing_requested_at=event.timestamp)
    if isinstance(event, ChatIndexed):
        return replace(
            state, indexed_chunks=event.chunks, indexing_failure=None, indexing_requested_at=None
        )
    if isinstance(event, IndexingFailed):
        return replace(state, indexing_failure=event.reason, indexing_requested_at=None)
    if isinstance(event, ChatShared):
        return replace(state, share_token_hash=event.share_token_hash)
    if isinstance(event, ChatUnshared):
        return replace(state, share_token_hash=None)
    if isinstance(event, ChatDeleted):
        return replace(state, deleted=True, share_token_hash=None)
    if isinstance(event, ChatPurged):
        return replace(state, purged=True)
    return state


def replay(events: Iterable[Event]) -> Chat | None:
    return fold(evolve, events)
