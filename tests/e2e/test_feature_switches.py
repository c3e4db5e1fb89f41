"""Kill switches on a running API: `relivchats flags set unlocks off` stops unlocks within 5 s,
before any coin is reserved; `on` brings them back; `flags list` shows who changed what when.

The switches live in the session's database, so every test here puts them back on.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from relivchats.adapters.switches import set_switch
from relivchats.settings import Settings
from tests.helpers import eventually
from tests.insight_flows import chat_of, unlock, user_with_coins

SWITCH_BITES_WITHIN_S = 5.0


def flags(settings: Settings, *words: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": settings.database_url, "ENVIRONMENT": "test"}
    return subprocess.run(
        [sys.executable, "-m", "relivchats", "flags", *words],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )


@pytest.fixture
def switches_back_on(settings: Settings) -> Iterator[None]:
    yield
    with psycopg.connect(settings.database_url) as conn:
        for name in ("unlocks", "orders.stripe", "rag_questions"):
            set_switch(conn, name, 100, "test-cleanup")


async def refused_as_disabled(
    client: httpx.AsyncClient, headers: dict[str, str], chat: str
) -> bool:
    """Probe with a user too poor to unlock: 402 or 429 while on, 503 once switched off."""
    response = await unlock(client, headers, chat)
    assert response.status_code in (402, 429, 503), response.text
    return response.status_code == 503


async def test_switching_unlocks_off_refuses_the_next_unlock_without_reserving_coins(
    app, client, projector, token_for, settings, switches_back_on
):
    _, rich = await user_with_coins(
        client, app.state.event_store, token_for(f"u-{uuid.uuid4()}"), 400
    )
    _, poor = await user_with_coins(client, app.state.event_store, token_for(f"u-{uuid.uuid4()}"))
    rich_chat, poor_chat = await chat_of(client, rich), await chat_of(client, poor)

    flags(settings, "set", "unlocks", "off", "--by", "on-call-test")
    await eventually(
        lambda: refused_as_disabled(client, poor, poor_chat), within=SWITCH_BITES_WITHIN_S
    )
    refused = await unlock(client, rich, rich_chat)

    assert refused.status_code == 503
    error = refused.json()["error"]
    assert (error["code"], error["details"]["feature"]) == ("feature_disabled", "unlocks")
    assert refused.headers["Retry-After"]
    balance = (await client.get("/api/credits/balance", headers=rich)).json()
    assert (balance["held"], balance["available"]) == (0, 450)

    flags(settings, "set", "unlocks", "on", "--by", "on-call-test")

    async def switched_back_on() -> bool:
        return not await refused_as_disabled(client, poor, poor_chat)

    await eventually(switched_back_on, within=SWITCH_BITES_WITHIN_S)
    reopened = await unlock(client, rich, rich_chat)
    assert reopened.status_code == 201, reopened.text
    listed = flags(settings, "list").stdout
    assert "on-call-test  unlocks: off -> on" in listed
    assert "on-call-test  unlocks: on -> off" in listed
    assert listed.index("unlocks: off -> on") < listed.index("unlocks: on -> off")  # newest first


async def test_orders_are_switched_per_provider(app, client, token_for, settings, switches_back_on):
    _, headers = await user_with_coins(
        client, app.state.event_store, token_for(f"u-{uuid.uuid4()}")
    )
    with psycopg.connect(settings.database_url) as conn:
        set_switch(conn, "orders.stripe", 0, "on-call-test")
    await asyncio.sleep(settings.feature_switch_ttl_s + 0.1)

    def order(provider: str) -> dict[str, object]:
        return {"package_id": "popular", "provider": provider}

    stripe = await client.post(
        "/api/payments/orders",
        json=order("stripe"),
        headers={**headers, "Idempotency-Key": f"s-{uuid.uuid4()}"},
    )
    razorpay = await client.post(
        "/api/payments/orders",
        json=order("razorpay"),
        headers={**headers, "Idempotency-Key": f"r-{uuid.uuid4()}"},
    )

    assert stripe.status_code == 503
    assert stripe.json()["error"]["details"]["feature"] == "orders.stripe"
    assert razorpay.status_code == 201, razorpay.text


async def test_questions_switched_off_are_refused_before_the_chat_is_read(
    app, client, token_for, settings, switches_back_on
):
    _, headers = await user_with_coins(
        client, app.state.event_store, token_for(f"u-{uuid.uuid4()}")
    )
    chat = await chat_of(client, headers)
    with psycopg.connect(settings.database_url) as conn:
        set_switch(conn, "rag_questions", 0, "on-call-test")
    await asyncio.sleep(settings.feature_switch_ttl_s + 0.1)

    asked = await client.post(
        "/api/rag/query", json={"chat_id": chat, "question": "who texts first?"}, headers=headers
    )

    assert asked.status_code == 503
    error = asked.json()["error"]
    assert (error["code"], error["details"]["feature"]) == ("feature_disabled", "rag_questions")
    turns = await client.get(f"/api/rag/conversations/{chat}", headers=headers)
    assert turns.status_code == 200 and turns.json()["turns"] == []


def test_an_unknown_switch_or_setting_is_refused_by_the_cli(settings):
    with pytest.raises(subprocess.CalledProcessError) as unknown:
        flags(settings, "set", "unlock", "off")
    assert "no switch 'unlock'" in unknown.value.stderr
    with pytest.raises(subprocess.CalledProcessError):
        flags(settings, "set", "uploads", "150")
