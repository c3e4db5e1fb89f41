"""Read the one chat text member out of an uploaded zip, within the upload limits.

The archive is read from memory and nothing in it is written to disk, so member names are never
used as paths; names that try to point outside the archive still get the upload refused, since
WhatsApp never writes them and they mark a hostile file. Sizes declared in zip headers are only a
cheap first check: the limits are enforced on the bytes actually decompressed, chunk by chunk,
so a header that lies cannot make us inflate more than the limit.
"""

from __future__ import annotations

import io
import zipfile
import zlib

from relivchats.domain.uploads import (
    MAX_COMPRESSION_RATIO,
    MAX_UNCOMPRESSED_BYTES,
    CompressionRatioTooHigh,
    NestedArchive,
    NoChatInArchive,
    UnsafeArchive,
    UnsupportedUpload,
    UploadTooLarge,
)

ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
PREFERRED_CHAT_MEMBER = "_chat.txt"
_CHUNK_BYTES = 1024 * 1024
_DAMAGED = "The zip file is damaged or uses a compression method we cannot read."


def is_zip(data: bytes) -> bool:
    return data.startswith(ZIP_SIGNATURES)


def chat_bytes_from_zip(data: bytes) -> bytes:
    """The bytes of the chat text member: `_chat.txt` if present, else the first `.txt`."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            member = _chat_member(archive.infolist())
            payload = _inflate_within_limits(archive, member, upload_size=len(data))
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as error:
        raise UnsupportedUpload(_DAMAGED) from error
    if is_zip(payload):
        raise NestedArchive()
    return payload


def _chat_member(members: list[zipfile.ZipInfo]) -> zipfile.ZipInfo:
    files = [member for member in members if not member.is_dir()]
    if any(_points_outside(member.filename) for member in files):
        raise UnsafeArchive()
    texts = [member for member in files if member.filename.lower().endswith(".txt")]
    preferred = [member for member in texts if _base_name(member) == PREFERRED_CHAT_MEMBER]
    if preferred or texts:
        return (preferred or texts)[0]
    if any(member.filename.lower().endswith(".zip") for member in files):
        raise NestedArchive()
    raise NoChatInArchive()


def _base_name(member: zipfile.ZipInfo) -> str:
    return member.filename.replace("\\", "/").rsplit("/", 1)[-1]


def _points_outside(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    has_drive = len(parts[0]) == 2 and parts[0][1] == ":"
    return name.startswith(("/", "\\")) or has_drive or ".." in parts or "\x00" in name


def _inflate_within_limits(
    archive: zipfile.ZipFile, member: zipfile.ZipInfo, upload_size: int
) -> bytes:
    if member.flag_bits & 0x1:
        raise UnsupportedUpload("The zip file is password-protected.")
    # Compressed data cannot be larger than the upload, whatever the header claims.
    compressed = max(1, min(member.compress_size, upload_size))
    ratio_limit = MAX_COMPRESSION_RATIO * compressed
    _refuse_beyond_limits(member.file_size, ratio_limit)
    chunks = []
    inflated = 0
    with archive.open(member) as stream:
        while chunk := stream.read(_CHUNK_BYTES):
            inflated += len(chunk)
            _refuse_beyond_limits(inflated, ratio_limit)
            chunks.append(chunk)
    return b"".join(chunks)


def _refuse_beyond_limits(size: int, ratio_limit: int) -> None:
    if size > MAX_UNCOMPRESSED_BYTES:
        raise UploadTooLarge("unzipped chat file", MAX_UNCOMPRESSED_BYTES)
    if size > ratio_limit:
        raise CompressionRatioTooHigh()
