"""Grouping a chat's messages into retrieval chunks (product spec §6).

Messages are taken in the order given (the export's order, which is chronological) and packed
into chunks of about `min_tokens`-`max_tokens` estimated tokens (characters / 4). A chunk that has
reached `min_tokens` closes at the first silence longer than `silence`, so a chunk tends to hold one
conversation. `max_tokens` is a hard ceiling: a message too big for any chunk is cut into pieces.
Neighbouring chunks share a short tail of messages (`overlap_tokens`) so that an exchange that
straddles a boundary can still be retrieved whole.

A chunk's text is `"Sender: text"` lines. Timestamps stay out of the text (they would spend the
embedder's token budget on digits); each chunk records its time range and the half-open range of
message positions it covers, so callers can fetch the exact messages with their times.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

CHARS_PER_TOKEN = 4


class ChatMessage(Protocol):
    @property
    def timestamp(self) -> datetime: ...

    @property
    def sender(self) -> str: ...

    @property
    def text(self) -> str: ...


@dataclass(frozen=True)
class ChunkingRules:
    min_tokens: int = 800
    max_tokens: int = 1000
    silence: timedelta = timedelta(minutes=10)
    overlap_tokens: int = 80

    def __post_init__(self) -> None:
        if not 0 < self.min_tokens <= self.max_tokens:
            raise ValueError("need 0 < min_tokens <= max_tokens")
        if not 0 <= self.overlap_tokens < self.min_tokens:
            raise ValueError("need 0 <= overlap_tokens < min_tokens")


@dataclass(frozen=True)
class Chunk:
    index: int
    text: str
    start_time: datetime
    end_time: datetime
    speakers: tuple[str, ...]
    message_count: int
    first_message: int  # position of the first message covered
    end_message: int  # one past the last message covered (half-open range)

    @property
    def estimated_tokens(self) -> int:
        return estimate_tokens(self.text)

    @property
    def time_span(self) -> timedelta:
        return self.end_time - self.start_time


def estimate_tokens(text: str) -> int:
    return -(-len(text) // CHARS_PER_TOKEN)


@dataclass
class _Line:
    """One rendered line: a whole message, or one piece of a message too big for a chunk."""

    position: int
    timestamp: datetime
    sender: str
    text: str
    size: int = field(init=False)  # characters, counting the newline that joins it to the next

    def __post_init__(self) -> None:
        self.size = len(self.text) + 1


def _tokens(size: int) -> int:
    """Estimated tokens of joined lines whose sizes add up to `size` (the last has no newline)."""
    return -(-(size - 1) // CHARS_PER_TOKEN)


def chunk_messages(
    messages: Sequence[ChatMessage], rules: ChunkingRules | None = None
) -> list[Chunk]:
    """Pack `messages` into chunks; every message lands in at least one chunk, in order."""
    rules = rules or ChunkingRules()
    chunks: list[Chunk] = []
    current: list[_Line] = []
    size = 0
    for line in _lines(messages, rules.max_tokens):
        if current and _must_close(current, size, line, rules):
            chunks.append(_make_chunk(len(chunks), current))
            current = _overlap(current, line, rules)
            size = sum(kept.size for kept in current)
        current.append(line)
        size += line.size
    if current:
        chunks.append(_make_chunk(len(chunks), current))
    return chunks


def _must_close(current: list[_Line], size: int, line: _Line, rules: ChunkingRules) -> bool:
    if _tokens(size + line.size) > rules.max_tokens:
        return True
    silent_for = line.timestamp - current[-1].timestamp
    return _tokens(size) >= rules.min_tokens and silent_for > rules.silence


def _overlap(closed: list[_Line], next_line: _Line, rules: ChunkingRules) -> list[_Line]:
    """The tail of the closed chunk that the next chunk starts with, if the ceiling allows it."""
    tail: list[_Line] = []
    used = 0
    for line in reversed(closed):
        grown = used + line.size
        if _tokens(grown) > rules.overlap_tokens:
            break
        if _tokens(grown + next_line.size) > rules.max_tokens:
            break
        tail.append(line)
        used = grown
    tail.reverse()
    return tail


def _lines(messages: Sequence[ChatMessage], max_tokens: int) -> Iterator[_Line]:
    for position, message in enumerate(messages):
        line = _Line(position, message.timestamp, message.sender, _render(message))
        if _tokens(line.size) <= max_tokens:
            yield line
        else:
            yield from _split(line, max_tokens)


def _render(message: ChatMessage) -> str:
    # A message's own line breaks would read as new messages from nobody: flatten them.
    return f"{message.sender}: {' '.join(message.text.split())}"


def _split(line: _Line, max_tokens: int) -> Iterator[_Line]:
    """Cut an oversized message into pieces that each fit a chunk, preferring word boundaries."""
    prefix = f"{line.sender}: "
    room = max_tokens * CHARS_PER_TOKEN - len(prefix)  # the prefix is repeated on every piece
    if room < CHARS_PER_TOKEN:
        raise ValueError("max_tokens is too small for this sender's name")
    body = line.text[len(prefix) :]
    while body:
        cut = len(body) if len(body) <= room else _cut_point(body, room)
        yield _Line(line.position, line.timestamp, line.sender, prefix + body[:cut].rstrip())
        body = body[cut:].lstrip()


def _cut_point(body: str, room: int) -> int:
    space = body.rfind(" ", room // 2, room)
    return space if space > 0 else room


def _make_chunk(index: int, lines: list[_Line]) -> Chunk:
    positions = [line.position for line in lines]
    return Chunk(
        index=index,
        text="\n".join(line.text for line in lines),
        start_time=lines[0].timestamp,
        end_time=lines[-1].timestamp,
        speakers=tuple(dict.fromkeys(line.sender for line in lines)),
        message_count=len(set(positions)),
        first_message=positions[0],
        end_message=positions[-1] + 1,
    )
