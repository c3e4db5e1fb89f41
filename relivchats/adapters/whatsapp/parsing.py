"""Export text -> `ParsedChat`, with whatstk doing the message splitting.

whatstk (GPL-3.0-only, like this project) reads a file path only and costs about 1.5 s to import
(pandas, plotly), so it is imported once, on first use, and fed a temporary file with a name of
our own. We tell it the header format (detected by `headers`), which is about 60 % faster than
its auto-detection and settles day/month order over the whole file.

This is CPU-bound and synchronous: callers on an event loop run it in a worker thread/process.
The text whatstk reads sits in a 0600 temporary file for the call, in /dev/shm when possible.
"""

from __future__ import annotations

import os
import re
import tempfile
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from relivchats.adapters.whatsapp.headers import HeaderFormat, detect_header_format
from relivchats.adapters.whatsapp.notices import (
    classify,
    cleaned_like_whatstk,
    without_system_lines,
)
from relivchats.domain.uploads import NotAChatExport, ParsedChat

_SHARED_MEMORY = "/dev/shm"  # noqa: S108 (a tmpfs checked for room, not a guessable path)


def parse_chat_text(text: str) -> ParsedChat:
    """Parse the decoded text of a WhatsApp export; `NotAChatExport` if it holds no messages."""
    # The leading newline lets line-anchored patterns, ours and whatstk's, match the first line.
    text = cleaned_like_whatstk(without_system_lines("\n" + text))
    header = detect_header_format(text)
    return _parsed_chat_from(_messages_frame(text, header))


def warm_up() -> None:
    """Import whatstk now (about 1.5 s) instead of during the first upload."""
    _whatstk_reader()


@cache
def _whatstk_reader() -> Any:
    from whatstk.whatsapp import parser

    return parser


def _messages_frame(text: str, header: HeaderFormat) -> pd.DataFrame:
    from whatstk.utils.exceptions import HFormatError

    whatstk = _whatstk_reader()
    message_header, _ = whatstk.generate_regex(header.hformat())
    if re.search(message_header, text) is None:
        raise NotAChatExport("it has dated lines, but none with a sender: no messages")
    # Created 0600 under a random name of our own; removed as soon as whatstk has read it.
    folder = _memory_backed_folder(len(text))
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".txt", dir=folder) as chat_file:
        chat_file.write(text)
        chat_file.flush()
        try:
            # The upload limits already bound the size; whatstk's own cap would only repeat it.
            frame: pd.DataFrame = whatstk.df_from_whatsapp(
                chat_file.name, auto_header=False, hformat=header.hformat(), max_size=None
            )
        except (HFormatError, ValueError) as error:
            raise NotAChatExport(f"its message headers could not be read ({error})") from error
    return frame


def _memory_backed_folder(text_chars: int) -> str | None:
    """Shared memory when it has room, so the chat text never reaches a disk; else None."""
    try:
        shm = os.statvfs(_SHARED_MEMORY)
    except OSError:
        return None
    # UTF-8 takes up to 4 bytes a character; keep a margin for other users of /dev/shm.
    room = shm.f_bavail * shm.f_frsize
    return _SHARED_MEMORY if room > 4 * text_chars + 64 * 1024 * 1024 else None


def _parsed_chat_from(frame: pd.DataFrame) -> ParsedChat:
    times = frame["date"].to_numpy(dtype="datetime64[s]")
    # A phone with a wrong clock writes messages out of order; a stable sort keeps ties as written.
    order = np.argsort(times, kind="stable")
    senders = frame["username"].to_numpy(dtype=object)[order]
    sender_codes, participants = pd.factorize(senders)
    texts = tuple(frame["message"].to_numpy(dtype=object)[order].tolist())
    return ParsedChat(
        participants=tuple(str(name) for name in participants),
        timestamps=times[order],
        sender_codes=sender_codes.astype(np.int32),
        texts=texts,
        kinds=classify(texts),
    )
