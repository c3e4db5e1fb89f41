"""Uploaded bytes -> the text of one WhatsApp export, or a typed refusal.

The type is sniffed from the bytes, never from the client's file name or MIME type: a zip is
unpacked (see `archive`), anything else must be UTF-8 or UTF-16 (with its byte-order mark) text.
Every limit of product.md section 4 is enforced here, before any parsing work starts.
"""

from __future__ import annotations

from typing import BinaryIO

from relivchats.adapters.whatsapp.archive import chat_bytes_from_zip, is_zip
from relivchats.domain.uploads import (
    MAX_LINE_CHARS,
    MAX_UPLOAD_BYTES,
    EmptyUpload,
    LineTooLong,
    UnsupportedEncoding,
    UnsupportedUpload,
    UploadTooLarge,
)

_KNOWN_BINARIES = {
    b"\x1f\x8b": "a gzip archive",
    b"Rar!": "a RAR archive",
    b"7z\xbc\xaf\x27\x1c": "a 7-Zip archive",
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
}
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_UTF8_BOM = b"\xef\xbb\xbf"
_SNIFF_BYTES = 64 * 1024
# Control bytes that no text export contains (tab, newlines and form feed are allowed).
_CONTROL_BYTES = bytes(set(range(32)) - {9, 10, 12, 13})


def read_upload(upload: bytes | BinaryIO) -> str:
    """The decoded chat text of an uploaded `.txt` or `.zip` export."""
    data = _bounded(upload)
    if not data:
        raise EmptyUpload()
    raw = chat_bytes_from_zip(data) if is_zip(data) else data
    if not raw.strip():
        raise EmptyUpload()
    text = _decoded(raw)
    _refuse_overlong_lines(text)
    return text


def _bounded(upload: bytes | BinaryIO) -> bytes:
    # One byte past the limit tells "exactly at the limit" from "over it" without reading it all.
    data = upload if isinstance(upload, bytes) else upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadTooLarge("uploaded file", MAX_UPLOAD_BYTES)
    return data


def _decoded(raw: bytes) -> str:
    if raw.startswith(_UTF16_BOMS):
        encoding = "utf-16"
    else:
        _refuse_binary(raw[:_SNIFF_BYTES])
        encoding = "utf-8-sig" if raw.startswith(_UTF8_BOM) else "utf-8"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as error:
        raise UnsupportedEncoding() from error
    if "\x00" in text:
        raise UnsupportedUpload("The file is binary data, not a text chat export.")
    return text.replace("\r\n", "\n")


def _refuse_binary(head: bytes) -> None:
    for signature, kind in _KNOWN_BINARIES.items():
        if head.startswith(signature):
            raise UnsupportedUpload(f"The file is {kind}, not a chat export.")
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    if controls > 0:
        raise UnsupportedUpload("The file is binary data, not a text chat export.")


def _refuse_overlong_lines(text: str) -> None:
    if len(text) > MAX_LINE_CHARS and max(map(len, text.split("\n"))) > MAX_LINE_CHARS:
        raise LineTooLong()
