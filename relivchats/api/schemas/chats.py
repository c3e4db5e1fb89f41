"""Request and response schemas of `/api/chats`, and how rows and chats become them."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from relivchats.adapters.chat_content import StoredMessage
from relivchats.api.errors import ApiError
from relivchats.domain.chats import MAX_TITLE_CHARS, Chat


class ChatSummary(BaseModel):
    chat_id: UUID
    title: str
    participants: list[str]
    is_group: bool = Field(description="more than 2 participants")
    me_participant: str | None = Field(description="which participant the user said they are")
    message_count: int
    first_message_at: datetime = Field(description="the export's local time, no time zone")
    last_message_at: datetime
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
    sent_at: datetime
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


_CURSOR_DIGITS = 18  # "p" and up to 17 digits: below 2**62, so a bigint parameter never overflows


def encode_cursor(position: int) -> str:
    """An opaque page cursor: clients pass it back, they do not compute it."""
    return base64.urlsafe_b64encode(f"p{position}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    try:
        decoded = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        decoded = ""
    if not decoded.startswith("p") or not decoded[1:].isdigit() or len(decoded) > _CURSOR_DIGITS:
        raise ApiError(422, "the cursor is not one this API gave out", code="invalid_cursor")
    return int(decoded[1:])
