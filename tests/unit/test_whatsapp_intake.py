"""Upload intake: type sniffing, limits and the bad-upload corpus of quality.md R6."""

from __future__ import annotations

import contextlib
import io
import random
import struct
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relivchats.adapters.whatsapp import archive, parse_upload, read_upload
from relivchats.domain.uploads import (
    MAX_COMPRESSION_RATIO,
    MAX_LINE_CHARS,
    MAX_UPLOAD_BYTES,
    CompressionRatioTooHigh,
    EmptyUpload,
    LineTooLong,
    NestedArchive,
    NoChatInArchive,
    NotAChatExport,
    ParsedChat,
    UnsafeArchive,
    UnsupportedEncoding,
    UnsupportedUpload,
    UploadRejected,
    UploadTooLarge,
)
from tests.fakes.chat_exports import STYLE_BY_NAME, generate_chat, render_export

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "chats"
CHAT_TEXT = (FIXTURES / "android_eu_24h.txt").read_text(encoding="utf-8")
CHAT_BYTES = CHAT_TEXT.encode("utf-8")


def zipped(*members: tuple[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as archive_file:
        for name, payload in members:
            archive_file.writestr(name, payload)
    return buffer.getvalue()


def central_directory_offset(data: bytes) -> int:
    end_of_directory = data.rindex(b"PK\x05\x06")
    offset: int = struct.unpack_from("<I", data, end_of_directory + 16)[0]
    return offset


def test_plain_text_export_is_read_as_text() -> None:
    assert read_upload(CHAT_BYTES) == CHAT_TEXT


def test_upload_can_be_streamed_from_a_binary_file() -> None:
    assert read_upload(io.BytesIO(CHAT_BYTES)) == CHAT_TEXT


def test_type_comes_from_the_bytes_so_a_zip_needs_no_zip_name() -> None:
    assert read_upload(zipped(("_chat.txt", CHAT_BYTES))) == CHAT_TEXT


def test_zip_prefers_the_chat_member_over_other_text_files() -> None:
    upload = zipped(("notes.txt", b"shopping list"), ("_chat.txt", CHAT_BYTES))
    assert read_upload(upload) == CHAT_TEXT


def test_zip_without_chat_member_uses_its_first_text_file() -> None:
    upload = zipped(("IMG-0001.jpg", b"\xff\xd8\xff"), ("WhatsApp Chat with Ben.txt", CHAT_BYTES))
    assert read_upload(upload) == CHAT_TEXT


def test_zip_of_an_ios_export_with_media_parses() -> None:
    style = STYLE_BY_NAME["ios_eu_24h"]
    text = render_export(generate_chat(30, style=style), style)
    upload = zipped(("_chat.txt", text.encode()), ("00000012-PHOTO.jpg", bytes(range(256))))
    assert len(parse_upload(upload)) == 30


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [("utf-8-sig", b""), ("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff")],
)
def test_utf8_with_bom_and_utf16_with_bom_are_decoded(encoding: str, prefix: bytes) -> None:
    assert read_upload(prefix + CHAT_TEXT.encode(encoding)) == CHAT_TEXT


def test_windows_line_endings_become_newlines() -> None:
    assert read_upload(CHAT_BYTES.replace(b"\n", b"\r\n")) == CHAT_TEXT


@pytest.mark.parametrize("upload", [b"", b"  \n\n \t", zipped(("_chat.txt", b""))])
def test_empty_upload_is_refused(upload: bytes) -> None:
    with pytest.raises(EmptyUpload, match="empty"):
        read_upload(upload)


def test_upload_over_the_size_limit_is_refused_with_the_limit() -> None:
    with pytest.raises(UploadTooLarge) as refusal:
        read_upload(io.BytesIO(b"a" * (MAX_UPLOAD_BYTES + 1)))
    assert refusal.value.details["limit_bytes"] == MAX_UPLOAD_BYTES
    assert "25 MB" in refusal.value.message
    assert refusal.value.code == "upload_too_large"


@pytest.mark.parametrize(
    ("upload", "named"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(200), "PNG"),
        (b"\x1f\x8b\x08\x00" + bytes(100), "gzip"),
        (b"%PDF-1.7\n", "PDF"),
        (random.Random(1).randbytes(4096), "binary"),
        (b"12/31/21, 10:15 PM - Ben: hi\x00\x01\x02", "binary"),
    ],
)
def test_binary_upload_is_refused_as_unsupported(upload: bytes, named: str) -> None:
    with pytest.raises(UnsupportedUpload, match=named):
        read_upload(upload)


def test_non_utf8_text_is_refused_with_the_accepted_encodings() -> None:
    latin1 = "15/01/2024, 09:00 - José: Café à la crème".encode("latin-1")
    with pytest.raises(UnsupportedEncoding) as refusal:
        read_upload(latin1)
    assert refusal.value.details["accepted"] == ["utf-8", "utf-16"]


def test_zip_bomb_is_refused_with_the_ratio_limit() -> None:
    bomb = zipped(("_chat.txt", bytes(8 * 1024 * 1024)))
    with pytest.raises(CompressionRatioTooHigh) as refusal:
        read_upload(bomb)
    assert refusal.value.details["limit_ratio"] == MAX_COMPRESSION_RATIO
    assert "100:1" in refusal.value.message


def test_zip_header_understating_the_size_does_not_bypass_the_limits() -> None:
    bomb = bytearray(zipped(("_chat.txt", bytes(8 * 1024 * 1024))))
    directory = central_directory_offset(bytes(bomb))
    struct.pack_into("<I", bomb, directory + 24, 1000)  # declared uncompressed size
    # Inflating stops at the declared size, and the checksum then exposes the lie.
    with pytest.raises(UnsupportedUpload, match="damaged"):
        read_upload(bytes(bomb))


def test_zip_header_overstating_the_compressed_size_does_not_relax_the_ratio() -> None:
    bomb = bytearray(zipped(("_chat.txt", bytes(8 * 1024 * 1024))))
    directory = central_directory_offset(bytes(bomb))
    struct.pack_into("<I", bomb, directory + 20, 10**8)  # declared compressed size
    with pytest.raises(CompressionRatioTooHigh):
        read_upload(bytes(bomb))


def test_uncompressed_limit_is_enforced_on_inflated_bytes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(archive, "MAX_UNCOMPRESSED_BYTES", 512 * 1024)
    text = CHAT_BYTES * (2 * 1024 * 1024 // len(CHAT_BYTES))
    upload = zipped(("_chat.txt", text), method=zipfile.ZIP_STORED)
    with pytest.raises(UploadTooLarge) as refusal:
        read_upload(upload)
    assert refusal.value.details == {"limit_bytes": 512 * 1024, "what": "unzipped chat file"}


def test_nested_zip_is_refused() -> None:
    inner = zipped(("_chat.txt", CHAT_BYTES))
    with pytest.raises(NestedArchive):
        read_upload(zipped(("export.zip", inner)))


def test_zip_disguised_as_the_chat_member_is_refused_as_nested() -> None:
    inner = zipped(("_chat.txt", CHAT_BYTES))
    with pytest.raises(NestedArchive):
        read_upload(zipped(("_chat.txt", inner)))


@pytest.mark.parametrize(
    "name", ["../../etc/_chat.txt", "/home/ben/_chat.txt", "C:\\Users\\_chat.txt", "a/../../b.txt"]
)
def test_path_traversal_member_names_are_refused(name: str) -> None:
    with pytest.raises(UnsafeArchive):
        read_upload(zipped((name, CHAT_BYTES)))


def test_zip_without_text_member_is_refused() -> None:
    with pytest.raises(NoChatInArchive, match=r"_chat\.txt"):
        read_upload(zipped(("IMG-0001.jpg", b"\xff\xd8\xff\xe0")))


def test_password_protected_zip_is_refused() -> None:
    locked = bytearray(zipped(("_chat.txt", CHAT_BYTES)))
    directory = central_directory_offset(bytes(locked))
    locked[directory + 8] |= 0x1  # general purpose flag: encrypted
    with pytest.raises(UnsupportedUpload, match="password"):
        read_upload(bytes(locked))


def test_damaged_zip_is_refused() -> None:
    with pytest.raises(UnsupportedUpload, match="damaged"):
        read_upload(b"PK\x03\x04" + bytes(range(200)))


def test_ten_megabyte_single_line_is_refused_with_the_line_limit() -> None:
    line = "15/01/2024, 09:00 - Ben: " + "x" * (10 * 1024 * 1024)
    with pytest.raises(LineTooLong) as refusal:
        read_upload(line.encode())
    assert refusal.value.details["limit_chars"] == MAX_LINE_CHARS


def test_text_that_is_not_a_chat_is_refused_with_a_reason() -> None:
    prose = "Dear diary,\nToday I went to the beach.\nIt was sunny: lovely.\n" * 50
    with pytest.raises(NotAChatExport) as refusal:
        parse_upload(prose.encode())
    assert "date and time" in refusal.value.details["reason"]


def test_every_refusal_has_a_code_and_an_actionable_message() -> None:
    for refusal_type in UploadRejected.__subclasses__():
        assert refusal_type.code != UploadRejected.code
    with pytest.raises(UploadRejected) as refusal:
        read_upload(b"")
    assert refusal.value.message.endswith("try again.")


_SPLICES = [b"\n", b"[", b"] ", b": ", b"\xe2\x80\x8e", b" - ", b"13/13/2021, ", b"99:99", b"PK"]


@st.composite
def _damaged_exports(draw: st.DrawFn) -> bytes:
    data = bytearray(CHAT_BYTES)
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data) - 1))
        if draw(st.booleans()):
            del data[at : at + draw(st.integers(1, 40))]
        else:
            data[at:at] = draw(st.sampled_from(_SPLICES) | st.binary(max_size=8))
    return bytes(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(upload=_damaged_exports() | st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_any_upload_gives_a_chat_or_a_typed_refusal(upload: bytes) -> None:
    # Anything else escaping would be a 500 for the API and a crash for the worker.
    with contextlib.suppress(UploadRejected):
        assert isinstance(parse_upload(upload), ParsedChat)
