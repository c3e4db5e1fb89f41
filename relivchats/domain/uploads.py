"""What a chat upload is allowed to be, why one is refused, and what a parsed one looks like.

Limits come from product.md section 4. Every refusal is an `UploadRejected` subclass whose message
tells the user what to do and names the limit it hit; `details` carries the same limit for clients.
The API maps "too large" refusals to 413 and the rest to 422, nothing is stored for any of them.

`ParsedChat` is the platform-neutral result of parsing an export: the participants in order of first
appearance and the messages as columns (timestamps, sender codes, texts, kinds) in time order. The
statistics module reads the columns with numpy instead of looping over message objects.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Any

import numpy as np
import numpy.typing as npt

from relivchats.domain.errors import DomainError

MEGABYTE = 1024 * 1024
MAX_UPLOAD_BYTES = 25 * MEGABYTE
MAX_UNCOMPRESSED_BYTES = 200 * MEGABYTE
MAX_COMPRESSION_RATIO = 100
# WhatsApp caps one message at 65,536 characters, so a longer line cannot come from an export.
MAX_LINE_CHARS = 100_000


class UploadRejected(DomainError):
    """The uploaded file cannot become a chat; nothing was stored."""

    code = "upload_rejected"


class UploadTooLarge(UploadRejected):
    code = "upload_too_large"

    def __init__(self, what: str, limit_bytes: int):
        super().__init__(
            f"The {what} is larger than the limit of {limit_bytes // MEGABYTE} MB. "
            "Export the chat without media, or a shorter period, and upload it again.",
            limit_bytes=limit_bytes,
            what=what,
        )


class CompressionRatioTooHigh(UploadRejected):
    code = "compression_ratio_too_high"

    def __init__(self) -> None:
        super().__init__(
            f"The zip file expands more than {MAX_COMPRESSION_RATIO}:1, which no chat export does. "
            "Upload the _chat.txt file or the zip exactly as WhatsApp made it.",
            limit_ratio=MAX_COMPRESSION_RATIO,
        )


class EmptyUpload(UploadRejected):
    code = "empty_upload"

    def __init__(self) -> None:
        super().__init__("The uploaded file is empty. Export the chat from WhatsApp and try again.")


class UnsupportedUpload(UploadRejected):
    """Neither a text export nor a readable zip holding one."""

    code = "unsupported_upload"

    def __init__(self, reason: str):
        super().__init__(
            f"{reason} Upload the .txt file or the .zip file that WhatsApp's 'Export chat' made.",
            reason=reason,
        )


class UnsupportedEncoding(UploadRejected):
    code = "unsupported_encoding"

    def __init__(self) -> None:
        super().__init__(
            "The file is not UTF-8 or UTF-16 text. Upload the export file exactly as WhatsApp "
            "made it, without opening and re-saving it in another program.",
            accepted=["utf-8", "utf-16"],
        )


class NestedArchive(UploadRejected):
    code = "nested_archive"

    def __init__(self) -> None:
        super().__init__(
            "The zip file holds another zip file instead of a chat. Unpack the outer zip and "
            "upload the export inside it."
        )


class UnsafeArchive(UploadRejected):
    code = "unsafe_archive"

    def __init__(self) -> None:
        super().__init__(
            "The zip file contains file names that point outside the archive, which WhatsApp "
            "never writes. Upload the export exactly as WhatsApp made it."
        )


class NoChatInArchive(UploadRejected):
    code = "no_chat_in_archive"

    def __init__(self) -> None:
        super().__init__(
            "The zip file holds no .txt chat file. Upload the zip that WhatsApp's 'Export chat' "
            "made, which contains _chat.txt."
        )


class LineTooLong(UploadRejected):
    code = "line_too_long"

    def __init__(self) -> None:
        super().__init__(
            f"The file has a line longer than {MAX_LINE_CHARS:,} characters, which no WhatsApp "
            "message can be. Upload an unmodified chat export.",
            limit_chars=MAX_LINE_CHARS,
        )


class NotAChatExport(UploadRejected):
    code = "not_a_chat_export"

    def __init__(self, reason: str):
        super().__init__(
            f"This does not look like a WhatsApp chat export: {reason}. Use 'Export chat' in "
            "WhatsApp and upload the file it makes.",
            reason=reason,
        )


class UnknownChatLayout(NotAChatExport):
    """Lines we cannot read as message headers. `shape` shows how they start with digits as 9
    and words as `a` (never the chat's text), so support can add the layout; `signature` is a
    coarser form of it to count refusals by."""

    def __init__(self, reason: str, shape: str):
        UploadRejected.__init__(
            self,
            f"This does not look like a WhatsApp chat export we can read ({reason}): the lines "
            f"start with `{shape}`; expected a date and time, like `31/12/2024, 21:05 - Name: "
            "text`. Use 'Export chat' in WhatsApp and upload the file it makes; if you did, "
            "contact support with this message so we can add your phone's layout.",
            reason=reason,
            shape=shape,
            signature=shape_signature(shape),
        )


def shape_signature(shape: str) -> str:
    """At most 16 characters: runs of digits, of letters and of spaces each shown once."""
    return re.sub(r"9+", "9", re.sub(r"a+", "a", re.sub(r"\s+", " ", shape)))[:16]


class ChatTooLargeToProcess(UploadRejected):
    """Within the file limits, but more messages than one parsing process may hold in memory."""

    code = "chat_too_large_to_process"

    def __init__(self, limit_mb: int):
        super().__init__(
            f"This chat has too many messages to process at once (it needs more than {limit_mb:,} "
            "MB of memory). Export a shorter period of the chat and upload it again.",
            limit_mb=limit_mb,
        )


class MessageKind(IntEnum):
    """What a message is, decided by the parser from the export's placeholder texts."""

    TEXT = 0
    MEDIA = 1
    DELETED = 2
    CALL = 3


@dataclass(frozen=True)
class ChatMessage:
    timestamp: datetime
    sender: str
    text: str
    kind: MessageKind = MessageKind.TEXT


@dataclass(frozen=True, eq=False)
class ParsedChat:
    """A parsed export, columnar: row i of every column is message i, rows in time order.

    `timestamps` are naive local times as the export wrote them (datetime64[s]); `sender_codes`
    index `participants`; `kinds` hold `MessageKind` values.
    """

    participants: tuple[str, ...]
    timestamps: npt.NDArray[np.datetime64]
    sender_codes: npt.NDArray[np.int32]
    texts: tuple[str, ...]
    kinds: npt.NDArray[np.int8]

    def __post_init__(self) -> None:
        size = len(self.texts)
        if size == 0:
            raise ValueError("a parsed chat has at least one message")
        if not len(self.timestamps) == len(self.sender_codes) == len(self.kinds) == size:
            raise ValueError("every column of a parsed chat has one row per message")
        if self.sender_codes.min() < 0 or self.sender_codes.max() >= len(self.participants):
            raise ValueError("a sender code does not name a participant")
        if np.any(np.diff(self.timestamps) < np.timedelta64(0, "s")):
            raise ValueError("messages of a parsed chat are in time order")
        for column in (self.timestamps, self.sender_codes, self.kinds):
            column.flags.writeable = False

    @classmethod
    def from_messages(cls, messages: Sequence[ChatMessage]) -> ParsedChat:
        """Build from message objects already in time order (tests, small imports)."""
        participants = tuple(dict.fromkeys(message.sender for message in messages))
        code_of = {name: code for code, name in enumerate(participants)}
        return cls(
            participants=participants,
            timestamps=np.array([m.timestamp for m in messages], dtype="datetime64[s]"),
            sender_codes=np.array([code_of[m.sender] for m in messages], dtype=np.int32),
            texts=tuple(m.text for m in messages),
            kinds=np.array([m.kind for m in messages], dtype=np.int8),
        )

    def __len__(self) -> int:
        return len(self.texts)

    def messages(self) -> Iterator[ChatMessage]:
        """One object per message, for storing them; statistics read the columns instead."""
        times: list[Any] = self.timestamps.astype("datetime64[s]").tolist()
        for index, text in enumerate(self.texts):
            yield ChatMessage(
                timestamp=times[index],
                sender=self.participants[self.sender_codes[index]],
                text=text,
                kind=MessageKind(int(self.kinds[index])),
            )
