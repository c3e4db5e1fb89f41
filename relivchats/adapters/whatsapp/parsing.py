"""Export text -> `ParsedChat`: one regular expression cuts the whole text into columns.

`headers` learns the layout of the export's message headers from its first lines and compiles
it; `split` then returns, for every header, its numbers, its 12-hour marker and its sender,
followed by the message text up to the next header, all in C. Timestamps are computed with numpy
and message kinds with whole-column regular expressions, so no Python code runs per message
except a few list slices. (whatstk, which the product used to parse with, stays the baseline of
bench/upload.py.)

This is CPU-bound and synchronous: callers on an event loop run it in a worker thread/process.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from relivchats.adapters.whatsapp.headers import GROUPS, HeaderLayout, detect_layout, timestamps
from relivchats.adapters.whatsapp.notices import (
    classify,
    cleaned,
    without_system_lines,
)
from relivchats.domain.uploads import NotAChatExport, ParsedChat

_SENDER = GROUPS - 1
# A longer name is only believed with this many messages that all start the same way.
_MESSAGES_TO_TRUST_A_LONGER_NAME = 2
_LONGEST_NAME = 60


def parse_chat_text(text: str) -> ParsedChat:
    """Parse the decoded text of a WhatsApp export; `NotAChatExport` if it holds no messages."""
    # The leading newline lets line-anchored patterns match the first line.
    text = cleaned(without_system_lines("\n" + text.lstrip("\ufeff")))
    layout = detect_layout(text)
    return _parsed_chat(*_messages(text, layout))


def warm_up() -> None:
    """Compile the vocabulary's patterns now rather than during the first upload."""
    parse_chat_text("1/1/24, 9:00 PM - A: a\n")


def _messages(
    text: str, layout: HeaderLayout
) -> tuple[npt.NDArray[np.datetime64], pd.Series, pd.Series]:
    """Time, sender and text of every message; WhatsApp's notices (no sender) left out."""
    columns, bodies = layout.split(text)
    times = timestamps(layout, columns[:_SENDER])
    senders = pd.Series(columns[_SENDER], dtype=object)
    is_message = senders.notna().to_numpy()
    if not is_message.any():
        raise NotAChatExport("it has dated lines, but none with a sender: no messages")
    texts = pd.Series(bodies, dtype=object)[is_message]
    # Only the last message still ends with the file's final newline(s); the others lost the
    # newline before the next header to the split. Blank lines after a message are not its text.
    texts = texts.str.rstrip("\n")
    senders, texts = _names_holding_colons(senders[is_message], texts)
    return times[is_message], senders, texts


def _names_holding_colons(senders: pd.Series, texts: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Resolve names like "Dr: Who", which the split cut at their first ": ".

    Such a sender shows up under the first part of the name, and every one of its messages
    starts with the rest of it and a ": ". A sender is read that way only when all of its (at
    least two) messages agree on that rest; one stray "Note: ..." never renames anyone.
    """
    codes, names = pd.factorize(senders)
    _, first_rows = np.unique(codes, return_index=True)
    for code, row in zip(codes[first_rows].tolist(), first_rows.tolist(), strict=True):
        rest, colon, _ = texts.iat[row].partition(": ")
        if not colon or "\n" in rest or len(rest) > _LONGEST_NAME:
            continue
        mine = codes == code
        if (
            mine.sum() >= _MESSAGES_TO_TRUST_A_LONGER_NAME
            and texts[mine].str.startswith(rest + colon).all()
        ):
            senders = senders.mask(mine, f"{names[code]}: {rest}")
            texts = texts.mask(mine, texts[mine].str.slice(len(rest) + len(colon)))
    return senders, texts


def _parsed_chat(
    times: npt.NDArray[np.datetime64], senders: pd.Series, texts: pd.Series
) -> ParsedChat:
    # A phone with a wrong clock writes messages out of order; a stable sort keeps ties as written.
    order = np.argsort(times, kind="stable")
    sender_codes, participants = pd.factorize(senders.to_numpy(dtype=object)[order])
    ordered_texts = tuple(texts.to_numpy(dtype=object)[order].tolist())
    return ParsedChat(
        participants=tuple(str(name) for name in participants),
        timestamps=times[order],
        sender_codes=sender_codes.astype(np.int32),
        texts=ordered_texts,
        kinds=classify(ordered_texts),
    )
