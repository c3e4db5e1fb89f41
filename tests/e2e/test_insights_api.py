"""The insight catalogue and unlocking through the HTTP API (no workers: the job stays open)."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from relivchats.domain.catalogue import CATEGORIES
from relivchats.domain.credits import CoinsReserved, account_id_for
from relivchats.domain.insights import JobRequested
from relivchats.domain.unlock_slots import slot_id_for
from relivchats.settings import Settings
from tests.helpers import auth
from tests.insight_flows import ROMANTIC_TYPES, chat_of, unlock, user_with_coins


async def test_categories_list_every_category_with_its_insight_types_and_cost(client):
    response = await client.get("/api/categories")

    assert response.status_code == 200
    listed = response.json()
    assert [c["category_id"] for c in listed] == [c.slug for c in CATEGORIES]
    romantic = listed[0]
    assert (romantic["cost_coins"], romantic["chat_size"], romantic["max_participants"]) == (
        400,
        "exactly_2",
        2,
    )
    assert [i["insight_type"] for i in romantic["insights"]] == ROMANTIC_TYPES


async def test_a_categorys_insights_come_in_order_and_an_unknown_one_is_404(client):
    family = await client.get("/api/categories/family/insights")
    unknown = await client.get("/api/categories/astrology/insights")

    assert [i["insight_type"] for i in family.json()] == [
        "family_dynamics",
        "family_emotional_climate",
        "family_conflict_patterns",
    ]
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "category_not_found"


async def test_unlock_reserves_the_cost_and_answers_the_job_to_poll(
    app, client, projector, token_for, subject
):
    _, headers = await user_with_coins(client, app.state.event_store, token_for(subject), 400)
    chat_id = await chat_of(client, headers)

    response = await unlock(client, headers, chat_id)

    assert response.status_code == 201, response.text
    job = response.json()
    assert (job["status"], job["insights_total"], job["insight_types"]) == (
        "indexing",
        6,
        ROMANTIC_TYPES,
    )
    assert (job["reservation"]["amount"], job["available"]) == (400, 50)
    assert job["eta_seconds"] > 0
    assert job["poll_url"] == f"/api/insights/jobs/{job['job_id']}/status"
    status = await client.get(f"{job['poll_url']}?min_position={job['position']}", headers=headers)
    assert status.status_code == 200
    assert status.json()["progress"] == {
        "total": 6,
        "succeeded": 0,
        "failed": 0,
        "pending": 6,
        "percent": 0,
    }
    assert {i["status"] for i in status.json()["insights"]} == {"pending"}
    balance = await client.get(
        f"/api/credits/balance?min_position={job['position']}", headers=headers
    )
    assert balance.json() == {"balance": 450, "held": 400, "available": 50, "flagged": False}


async def test_a_second_unlock_while_the_job_runs_is_409_with_the_open_job(
    app, client, projector, token_for, subject
):
    _, headers = await user_with_coins(client, app.state.event_store, token_for(subject), 1600)
    chat_id = await chat_of(client, headers)
    first = (await unlock(client, headers, chat_id)).json()

    second = await unlock(client, headers, chat_id)

    assert second.status_code == 409
    assert second.json()["error"]["code"] == "job_already_open"
    assert second.json()["error"]["details"]["job_id"] == first["job_id"]


async def test_too_few_coins_is_402_with_required_available_and_deficit(
    app, client, projector, token_for, subject
):
    _, headers = await user_with_coins(client, app.state.event_store, token_for(subject))
    chat_id = await chat_of(client, headers)

    response = await unlock(client, headers, chat_id)

    assert response.status_code == 402
    details = response.json()["error"]["details"]
    assert (details["required"], details["available"], details["deficit"]) == (400, 50, 350)


async def test_chat_checks_come_before_any_coin_is_reserved(
    app, client, projector, token_for, subject
):
    store = app.state.event_store
    user_id, headers = await user_with_coins(client, store, token_for(subject), 400)
    _, stranger = await user_with_coins(client, store, token_for(f"other-{subject}"), 400)
    group = await chat_of(client, headers, participants=("Asha", "Ben", "Chen"))
    pair = await chat_of(client, headers)

    assert (await unlock(client, stranger, pair)).status_code == 404
    assert (await unlock(client, headers, str(uuid.uuid4()))).status_code == 404
    wrong_size = await unlock(client, headers, group)
    assert wrong_size.status_code == 422
    assert wrong_size.json()["error"]["code"] == "chat_size_not_allowed"
    assert (await unlock(client, headers, pair, category="astrology")).status_code == 404
    events = await store.load(account_id_for(user_id))
    assert not any(isinstance(event, CoinsReserved) for event in events)


async def test_the_same_idempotency_key_answers_the_same_job_and_refuses_another_body(
    app, client, projector, token_for, subject
):
    _, headers = await user_with_coins(client, app.state.event_store, token_for(subject), 1600)
    pair, other = await chat_of(client, headers), await chat_of(client, headers)
    first = await unlock(client, headers, pair, key="unlock-1")

    again = await unlock(client, headers, pair, key="unlock-1")
    elsewhere = await unlock(client, headers, other, key="unlock-1")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["job_id"] == first.json()["job_id"]
    assert again.json()["reservation"] == first.json()["reservation"]
    assert elsewhere.status_code == 409
    assert elsewhere.json()["error"]["code"] == "idempotency_key_reused"


async def test_another_users_job_and_chat_insights_are_404(
    app, client, projector, token_for, subject
):
    store = app.state.event_store
    _, headers = await user_with_coins(client, store, token_for(subject), 400)
    _, stranger = await user_with_coins(client, store, token_for(f"other-{subject}"))
    chat_id = await chat_of(client, headers)
    job = (await unlock(client, headers, chat_id)).json()
    wait = f"?min_position={job['position']}"

    assert (await client.get(job["poll_url"] + wait, headers=stranger)).status_code == 404
    theirs = await client.get(f"/api/insights/chats/{chat_id}{wait}", headers=stranger)
    assert theirs.status_code == 404
    mine = await client.get(f"/api/insights/chats/{chat_id}{wait}", headers=headers)
    assert mine.json()["insights"] == []
    assert [j["status"] for j in mine.json()["jobs"]] == ["indexing"]
    retry = await client.post(f"/api/insights/jobs/{job['job_id']}/retry", headers=headers)
    assert retry.status_code == 409  # still running
    assert retry.json()["error"]["code"] == "job_not_settled"


async def test_unlocks_are_rate_limited_per_user(app, client, projector, token_for, subject):
    _, headers = await user_with_coins(client, app.state.event_store, token_for(subject), 400)
    chat_id = await chat_of(client, headers)

    responses = [await unlock(client, headers, chat_id) for _ in range(7)]

    statuses = [response.status_code for response in responses]
    assert statuses[0] == 201
    assert set(statuses[1:]) == {409, 429}  # 3 a minute: even across a window's end, by the 7th
    refused = next(response for response in responses if response.status_code == 429)
    assert int(refused.headers["Retry-After"]) >= 1


@pytest.fixture(scope="module")
async def unlimited_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An API without the unlock rate limit, to race many unlocks at once."""
    from relivchats.api.app import create_app

    application = create_app(settings.model_copy(update={"rate_limit_unlock": "1000/minute"}))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            http.app = application  # type: ignore[attr-defined]
            yield http


async def test_fifty_concurrent_unlocks_of_one_chat_make_one_job_and_one_reservation(
    unlimited_client, projector, token_for, subject
):
    store = unlimited_client.app.state.event_store
    user_id, headers = await user_with_coins(unlimited_client, store, token_for(subject), 1600)
    chat_id = await chat_of(unlimited_client, headers)

    responses = await asyncio.gather(
        *(unlock(unlimited_client, headers, chat_id) for _ in range(50))
    )

    assert Counter(r.status_code for r in responses) == {201: 1, 409: 49}
    winner = next(r.json() for r in responses if r.status_code == 201)
    assert {r.json()["error"]["details"]["job_id"] for r in responses if r.status_code == 409} == {
        winner["job_id"]
    }
    reserved = [
        e for e in await store.load(account_id_for(user_id)) if isinstance(e, CoinsReserved)
    ]
    assert [e.job_id for e in reserved] == [uuid.UUID(winner["job_id"])]
    slot = await store.load(slot_id_for(uuid.UUID(chat_id), "romantic"))
    assert len(slot) == 1
    assert isinstance((await store.load(uuid.UUID(winner["job_id"])))[0], JobRequested)


async def test_hot_account_unlocks_exactly_what_it_can_afford(
    unlimited_client, projector, token_for, subject
):
    """P4 over HTTP: 8 chats x 2 categories unlocked at once by one user holding 1650 coins."""
    store = unlimited_client.app.state.event_store
    user_id, headers = await user_with_coins(unlimited_client, store, token_for(subject), 1600)
    chats = [await chat_of(unlimited_client, headers, count=20) for _ in range(8)]
    attempts: list[Any] = [
        unlock(unlimited_client, headers, chat, category)
        for chat in chats
        for category in ("romantic", "friendship")
    ]

    statuses = Counter(r.status_code for r in await asyncio.gather(*attempts))

    assert statuses == {201: 4, 402: 12}
    reserved = [
        e for e in await store.load(account_id_for(user_id)) if isinstance(e, CoinsReserved)
    ]
    assert len(reserved) == 4
    balance = await unlimited_client.get("/api/credits/balance", headers=auth(token_for(subject)))
    assert balance.status_code == 200
