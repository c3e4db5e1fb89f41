"""Helpers for tests that unlock insights through the HTTP API."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from relivchats.adapters.eventstore import AsyncEventStore
from relivchats.commands.unit_of_work import dispatch
from tests.chat_uploads import small_export, uploaded
from tests.helpers import auth
from tests.ledger_commands import purchase_coins

ROMANTIC_TYPES = [
    "communication_basics",
    "emotional_intimacy",
    "love_language",
    "conflict_resolution",
    "future_planning",
    "playfulness_romance",
]


async def user_with_coins(
    client: httpx.AsyncClient, store: AsyncEventStore, token: str, bought: int = 0
) -> tuple[uuid.UUID, dict[str, str]]:
    """A registered user (50 welcome coins) who bought `bought` coins more."""
    headers = auth(token)
    stored = (await client.post("/api/users/store", headers=headers)).json()
    user_id = uuid.UUID(stored["user_id"])
    if bought:
        await dispatch(store, purchase_coins, user_id, uuid.uuid4(), bought)
    return user_id, headers


async def chat_of(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    participants: tuple[str, ...] = ("Asha", "Ben"),
    count: int = 60,
) -> str:
    body = await uploaded(client, headers, small_export(count, participants=participants))
    chat_id: str = body["chat"]["chat_id"]
    return chat_id


async def unlock(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    chat_id: str,
    category: str = "romantic",
    key: str | None = None,
) -> httpx.Response:
    sent = {**headers, **({"Idempotency-Key": key} if key else {})}
    body: dict[str, Any] = {"chat_id": chat_id, "category_id": category}
    return await client.post("/api/insights/unlock", json=body, headers=sent)
