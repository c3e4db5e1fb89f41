"""WhatsApp chat exports: upload intake, header layout detection and parsing.

    read_upload(bytes | binary file) -> str          limits, type sniffing, decoding
    parse_chat_text(str) -> ParsedChat               header layout, one split, classification
    parse_upload(bytes | binary file) -> ParsedChat  both

Every refusal is a `relivchats.domain.uploads.UploadRejected`. Parsing is CPU-bound and
synchronous (under 1 s of CPU per 100,000 messages): run it off the event loop.
"""

from __future__ import annotations

from typing import BinaryIO

from relivchats.adapters.whatsapp.intake import read_upload
from relivchats.adapters.whatsapp.parsing import parse_chat_text, warm_up
from relivchats.domain.uploads import ParsedChat


def parse_upload(upload: bytes | BinaryIO) -> ParsedChat:
    """The parsed chat of an uploaded `.txt` or `.zip` WhatsApp export."""
    return parse_chat_text(read_upload(upload))


__all__ = ["parse_chat_text", "parse_upload", "read_upload", "warm_up"]
