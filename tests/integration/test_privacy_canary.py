"""quality.md R10: a canary string sent as message text never shows up outside the sealed
content tables: not in logs, not in Redis, not in any other table, not in the events."""

from __future__ import annotations

import base64
import binascii
import logging
import uuid
from datetime import datetime, timedelta

import asyncpg
import orjson
import redis.asyncio as aioredis

from relivchats.logs import JsonFormatter
from tests.chat_uploads import ANDROID, upload
from tests.fakes.chat_exports import FakeMessage, render_export
from tests.helpers import auth

CONTENT_TABLES = {"chat_messages", "chat_contents"}


def canary_chat(canary: str) -> bytes:
    start = datetime(2024, 3, 14, 9, 0)
    texts = [
        f"{canary} is the word of the day",
        f"did you say {canary}? {canary} {canary}",
        f"look https://example.com/{canary}/page",
        f"{canary} " + "a very long message with many words " * 20,
        "nothing to see here",
    ]
    messages = [
        FakeMessage(start + timedelta(minutes=i), ("Asha", "Ben")[i % 2], text)
        for i, text in enumerate(texts)
    ]
    return render_export(messages, ANDROID).encode()


async def leaked_in_tables(database_url: str, needle: bytes) -> list[str]:
    conn = await asyncpg.connect(database_url)
    try:
        tables = [
            row["tablename"]
            for row in await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            )
        ]
        leaks = []
        for table in sorted(set(tables) - CONTENT_TABLES):
            rows = await conn.fetch(f"SELECT t::text AS row FROM {table} t")
            if any(needle.decode() in row["row"].lower() for row in rows):
                leaks.append(table)
        states = await conn.fetch("SELECT state FROM relivchats_events")
        if any(needle in bytes(row["state"]).lower() for row in states):
            leaks.append("relivchats_events.state")
        for table, column in (("chat_messages", "body"), ("chat_contents", "statistics")):
            sealed = await conn.fetch(f"SELECT {column} AS value FROM {table}")
            if any(needle in bytes(row["value"]).lower() for row in sealed):
                leaks.append(f"{table}.{column} (in clear)")
        return leaks
    finally:
        await conn.close()


async def leaked_in_redis(redis_url: str, needle: bytes) -> list[str]:
    redis = aioredis.from_url(redis_url)
    try:
        leaks = []
        async for key in redis.scan_iter(count=1000):
            if any(needle in value.lower() for value in [key, *await _values(redis, key)]):
                leaks.append(key.decode(errors="replace"))
        return leaks
    finally:
        await redis.aclose()


async def _values(redis: aioredis.Redis, key: bytes) -> list[bytes]:
    kind = (await redis.type(key)).decode()
    if kind == "string":
        values = [await redis.get(key) or b""]
    elif kind == "hash":
        values = [part for pair in (await redis.hgetall(key)).items() for part in pair]
    elif kind == "list":
        values = await redis.lrange(key, 0, -1)
    elif kind == "set":
        values = list(await redis.smembers(key))
    elif kind == "zset":
        values = await redis.zrange(key, 0, -1)
    else:
        values = []
    return values + [_kombu_body(value) for value in values]


def _kombu_body(value: bytes) -> bytes:
    """Celery messages keep their body base64-encoded inside JSON: look inside it too."""
    try:
        return base64.b64decode(orjson.loads(value)["body"])
    except (orjson.JSONDecodeError, KeyError, TypeError, binascii.Error):
        return b""


async def test_message_text_never_leaves_the_sealed_content_tables(
    client, projector, settings, token_for, subject, caplog
):
    caplog.set_level(logging.DEBUG)
    canary = "zqxcanary" + "".join(chr(ord("a") + int(c, 16)) for c in uuid.uuid4().hex[:12])
    headers = auth(token_for(subject))

    uploaded = await upload(client, headers, canary_chat(canary), key=f"canary-{canary}")
    refused = await upload(client, headers, f"{canary} is not a chat\n".encode() * 20)
    chat_id = uploaded.json()["chat"]["chat_id"]
    position = uploaded.json()["position"]
    detail = await client.get(f"/api/chats/{chat_id}?min_position={position}", headers=headers)
    page = await client.get(f"/api/chats/{chat_id}/messages", headers=headers)
    shared = await client.post(f"/api/chats/{chat_id}/share", headers=headers)
    public = await client.get(
        f"{shared.json()['public_stats_path']}?min_position={shared.json()['position']}"
    )

    # The canary really went through: the owner reads it back, and the statistics quote it.
    assert (uploaded.status_code, refused.status_code) == (201, 422)
    assert canary in page.text and canary in detail.text and canary in public.text
    assert canary in [entry["word"] for entry in detail.json()["statistics"]["top_words"]]
    needle = canary.encode()
    assert any(record.getMessage() == "chat uploaded" for record in caplog.records)
    formatter = JsonFormatter()
    assert [r.name for r in caplog.records if canary in formatter.format(r).lower()] == []
    assert await leaked_in_redis(settings.redis_url, needle) == []
    assert await leaked_in_tables(settings.database_url, needle) == []
