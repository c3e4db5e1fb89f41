"""Helpers for tests that upload chats through the HTTP API."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import httpx

from tests.fakes.chat_exports import STYLE_BY_NAME, FakeMessage, generate_chat, render_export

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "chats"
ANDROID = STYLE_BY_NAME["android_eu_24h"]
HAND_COUNTED_NAME = "hand_counted_android.txt"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def export_of(messages: list[FakeMessage]) -> bytes:
    return render_export(messages, ANDROID).encode("utf-8")


def small_export(count: int = 12, seed: int = 0, **options: Any) -> bytes:
    return export_of(generate_chat(count, seed=seed, style=ANDROID, **options))


def zipped(*members: tuple[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, payload in members:
            archive.writestr(name, payload)
    return buffer.getvalue()


async def upload(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    data: bytes,
    *,
    key: str | None = None,
    filename: str = "WhatsApp Chat.txt",
) -> httpx.Response:
    sent = {**headers, **({"Idempotency-Key": key} if key else {})}
    files = {"file": (filename, data, "application/octet-stream")}
    return await client.post("/api/chats/upload", files=files, headers=sent)


async def uploaded(client: httpx.AsyncClient, headers: dict[str, str], data: bytes) -> Any:
    """Upload and wait for the read model: the upload's JSON body."""
    response = await upload(client, headers, data)
    assert response.status_code == 201, response.text
    body = response.json()
    await client.get(f"/api/chats?min_position={body['position']}", headers=headers)
    return body
