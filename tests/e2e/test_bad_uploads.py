"""The bad-upload corpus of quality.md R6 through the HTTP API: a clear 4xx, nothing stored,
and the API (and its upload processes) still serving afterwards."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import asyncpg
import pytest

from relivchats.domain.uploads import MAX_UPLOAD_BYTES, MEGABYTE
from tests.chat_uploads import fixture_bytes, upload, zipped
from tests.helpers import auth

CHAT = fixture_bytes("android_eu_24h.txt")
BOUNDARY = "relivchats-test-boundary"

CORPUS = {
    "empty": (b"", 422, "empty_upload"),
    "binary": (b"\x89PNG\r\n\x1a\n" + os.urandom(4096), 422, "unsupported_upload"),
    "random bytes": (os.urandom(8192), 422, None),
    "not UTF-8": (
        "15/01/2024, 09:00 - Zoë: Café crème à côté".encode("latin-1"),
        422,
        "unsupported_encoding",
    ),
    "zip bomb": (zipped(("_chat.txt", b"0" * (30 * MEGABYTE))), 413, "compression_ratio_too_high"),
    "nested zip": (zipped(("inner.zip", zipped(("_chat.txt", CHAT)))), 422, "nested_archive"),
    "path traversal": (zipped(("../../etc/_chat.txt", CHAT)), 422, "unsafe_archive"),
    "absolute path": (zipped(("/var/chats/_chat.txt", CHAT)), 422, "unsafe_archive"),
    "zip without chat": (
        zipped(("photo.jpg", b"\xff\xd8\xff" + bytes(100))),
        422,
        "no_chat_in_archive",
    ),
    "10 MB single line": (b"a" * (10 * MEGABYTE), 422, "line_too_long"),
    "not a chat": (
        b"Dear diary,\nToday I wrote a poem.\nIt had no dates in it.\n" * 50,
        422,
        "not_a_chat_export",
    ),
    "over 25 MB": (b"x" * (MAX_UPLOAD_BYTES + 1), 413, "upload_too_large"),
}


async def stored_chat_rows(database_url: str) -> tuple[int, int, int]:
    conn = await asyncpg.connect(database_url)
    try:
        row = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM chat_contents), (SELECT count(*) FROM chat_messages),"
            " (SELECT count(*) FROM relivchats_events WHERE topic LIKE 'chats.%')"
        )
        return row[0], row[1], row[2]
    finally:
        await conn.close()


@pytest.mark.parametrize(
    ("upload_bytes", "status", "code"), list(CORPUS.values()), ids=list(CORPUS)
)
async def test_bad_upload_is_refused_clearly_and_stores_nothing(
    client, settings, token_for, subject, upload_bytes, status, code
):
    headers = auth(token_for(subject))
    before = await stored_chat_rows(settings.database_url)

    response = await upload(client, headers, upload_bytes)

    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert code is None or error["code"] == code
    assert len(error["message"]) > 30 and "Traceback" not in error["message"]
    assert await stored_chat_rows(settings.database_url) == before
    assert (await client.get("/health")).status_code == 200


async def test_size_limits_name_the_limit(client, token_for, subject):
    response = await upload(client, auth(token_for(subject)), b"x" * (MAX_UPLOAD_BYTES + 1))

    assert "25 MB" in response.json()["error"]["message"]
    assert response.json()["error"]["details"]["limit_bytes"] == MAX_UPLOAD_BYTES


async def test_an_oversized_upload_without_a_length_is_cut_off_while_streaming(
    client, settings, token_for, subject
):
    before = await stored_chat_rows(settings.database_url)
    sent = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        yield (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
            "Content-Type: text/plain\r\n\r\n"
        ).encode()
        for _ in range(40):  # 40 MB offered; refused after the first 25
            sent += MEGABYTE
            yield b"y" * MEGABYTE
        yield f"\r\n--{BOUNDARY}--\r\n".encode()

    response = await client.post(
        "/api/chats/upload",
        content=body(),
        headers={
            **auth(token_for(subject)),
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        },
    )

    assert response.status_code == 413
    assert sent < 40 * MEGABYTE
    assert await stored_chat_rows(settings.database_url) == before


async def test_a_request_that_is_not_multipart_is_refused(client, token_for, subject):
    response = await client.post(
        "/api/chats/upload",
        content=CHAT,
        headers={**auth(token_for(subject)), "Content-Type": "text/plain"},
    )
    assert response.status_code == 415
    assert "multipart/form-data" in response.json()["error"]["message"]


async def test_a_multipart_request_without_the_file_field_is_refused(client, token_for, subject):
    response = await client.post(
        "/api/chats/upload", files={"document": ("a.txt", CHAT)}, headers=auth(token_for(subject))
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "no_file"


async def test_after_the_whole_corpus_a_good_upload_still_works(
    client, projector, token_for, subject
):
    headers = auth(token_for(subject))
    for upload_bytes, _, _ in CORPUS.values():
        await upload(client, headers, upload_bytes)

    response = await upload(client, headers, CHAT)

    assert response.status_code == 201
    assert (await client.get("/health")).status_code == 200


def unreadable_refusals(metrics: str, shape: str) -> float:
    line = f'relivchats_unreadable_exports_total{{shape="{shape}"}} '
    rows = [row for row in metrics.splitlines() if row.startswith(line)]
    return sum(float(row.removeprefix(line)) for row in rows)


async def test_an_unknown_layout_is_refused_with_its_shape_and_counted_by_it(
    client, token_for, subject
):
    # Chinese phones write five day periods ("晚上" is evening); we read two of them.
    export = "2024/1/3 上午9:05 - 李雷: 你好\n2024/1/3 晚上9:05 - 韩梅梅: 晚安\n".encode()
    before = unreadable_refusals((await client.get("/metrics")).text, "9/9/9 a9:9 - a: ")

    response = await upload(client, auth(token_for(subject)), export)

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "not_a_chat_export"
    assert (
        "the lines start with `9999/9/9 a9:99 - a: a`; expected a date and time"
        in (error["message"])
    )
    assert "你好" not in response.text and "李雷" not in response.text
    after = unreadable_refusals((await client.get("/metrics")).text, "9/9/9 a9:9 - a: ")
    assert after == before + 1
