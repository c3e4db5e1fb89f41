"""Request and response schemas of `/api/chats`, and how rows and chats become them."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field, WithJsonSchema

from relivchats.adapters.chat_content import StoredMessage
from relivchats.domain.chats import Chat
from relivchats.domain.chats_rules import MAX_TITLE_CHARS

# A WhatsApp export's clock: local time with no zone, so not an RFC 3339 "date-time" (which
# requires an offset); the schema says what it is instead of promising an offset.
ExportTime = Annotated[
    datetime,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$",
            "description": "the export's local time, ISO 8601 without a time zone",
        }
    ),
]


class ChatSummary(BaseModel):
    chat_id: UUID
    title: str
    participants: list[str]
    is_group: bool = Field(description="more than 2 participants")
    me_participant: str | None = Field(description="which participant the user said they are")
    message_count: int
    first_message_at: ExportTime
    last_message_at: ExportTime
    uploaded_at: datetime
    shared: bool


class ChatWritten(BaseModel):
    chat: ChatSummary
    created: bool = Field(description="false when an Idempotency-Key named an earlier upload")
    position: int


class ChatList(BaseModel):
    items: list[ChatSummary]
    next_cursor: str | None


class ChatDetail(ChatSummary):
    statistics: dict[str, Any] = Field(description="every free statistic (product spec 4)")


class MessageView(BaseModel):
    seq: int = Field(description="0-based place in time order")
    sent_at: ExportTime
    sender: str
    kind: Literal["text", "media", "deleted", "call"]
    text: str


class MessagePage(BaseModel):
    items: list[MessageView]
    next_cursor: str | None


class VectorStatus(BaseModel):
    chat_id: UUID
    status: Literal["not_indexed", "indexed", "failed"]
    chunk_count: int
    searchable: bool
    failure: str | None


class DisplayNameRequest(BaseModel):
    me_participant: str | None = Field(default=None, max_length=200)
    title: str | None = Field(default=None, min_length=1, max_length=MAX_TITLE_CHARS)


class ChatDeletedResponse(BaseModel):
    chat_id: UUID
    deleted: bool
    position: int


class ChatShareResponse(BaseModel):
    share_token: str = Field(description="shown once; only its hash is kept")
    public_stats_path: str
    position: int


class ChatUnshareResponse(BaseModel):
    shared: bool
    position: int


class PublicStatistics(BaseModel):
    title: str
    participants: list[str]
    is_group: bool
    message_count: int
    statistics: dict[str, Any]


def summary_of_chat(chat: Chat) -> ChatSummary:
    """A write's answer, from the state the command decided (not from the read model)."""
    return ChatSummary(
        chat_id=chat.id,
        title=chat.title,
        participants=list(chat.participants),
        is_group=chat.is_group,
        me_participant=chat.me_participant,
        message_count=chat.message_count,
        first_message_at=chat.first_message_at,
        last_message_at=chat.last_message_at,
        uploaded_at=chat.uploaded_at,
        shared=chat.share_token_hash is not None,
    )


def summary_of_row(row: Any) -> ChatSummary:
    return ChatSummary(
        chat_id=row["chat_id"],
        title=row["title"],
        participants=row["participants"],
        is_group=row["is_group"],
        me_participant=row["me_participant"],
        message_count=row["message_count"],
        first_message_at=row["first_message_at"],
        last_message_at=row["last_message_at"],
        uploaded_at=row["uploaded_at"],
        shared=row["shared"],
    )


def message_view(message: StoredMessage, participants: list[str]) -> MessageView:
    return MessageView(
        seq=message.seq,
        sent_at=message.sent_at,
        sender=participants[message.sender_index],
        kind=message.kind.name.lower(),
        text=message.text,
    )


def vector_status_of(row: Any) -> VectorStatus:
    chunks = row["indexed_chunks"] or 0
    failure = row["indexing_failure"]
    status = "indexed" if chunks else "failed" if failure else "not_indexed"
    return VectorStatus(
        chat_id=row["chat_id"],
        status=status,
        chunk_count=chunks,
        searchable=chunks > 0,
        failure=failure,
    )


# A cursor is a signed 64-bit position (a bigint, as stored) in unpadded URL-safe base64: every
# string this pattern accepts decodes to one, so the OpenAPI pattern is the whole contract and a
# malformed cursor is a 422 validation error before any query. A made-up cursor only moves the
# page within the caller's own rows. Empty means the first page.
CURSOR_PATTERN = r"^([A-Za-z0-9_-]{11})?$"
_CURSOR_BYTES = 8


def encode_cursor(position: int) -> str:
    """An opaque page cursor: clients pass it back, they do not compute it."""
    packed = position.to_bytes(_CURSOR_BYTES, "big", signed=True)
    return base64.urlsafe_b64encode(packed).decode().rstrip("=")


def decode_cursor(cursor: str) -> int | None:
    """The position of a cursor that matched CURSOR_PATTERN (the route's query checks it)."""
    if not cursor:
        return None
    packed = base64.urlsafe_b64decode(cursor + "=")
    return int.from_bytes(packed, "big", signed=True)
