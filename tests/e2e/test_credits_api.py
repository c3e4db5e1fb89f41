"""The coin ledger through the HTTP API: balance, transactions, packages, audit, hot account."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from relivchats.api.errors import status_for
from relivchats.commands.unit_of_work import dispatch
from relivchats.domain.credits import CoinsReserved, account_id_for
from relivchats.domain.errors import DomainError
from relivchats.domain.packages import active_packages
from tests.helpers import AUDITOR_CLAIMS, auth
from tests.ledger_commands import purchase_coins, reserve_coins


async def registered(client: Any, token: str) -> tuple[uuid.UUID, dict[str, str], int]:
    headers = auth(token)
    stored = (await client.post("/api/users/store", headers=headers)).json()
    return uuid.UUID(stored["user_id"]), headers, stored["position"]


async def test_registering_grants_the_welcome_bonus_once_and_me_shows_the_balance(
    client, projector, token_for, subject
):
    headers = auth(token_for(subject))
    first = (await client.post("/api/users/store", headers=headers)).json()
    second = (await client.post("/api/users/store", headers=headers)).json()

    assert (first["welcome_bonus"], first["balance"], first["available"]) == (50, 50, 50)
    assert (second["welcome_bonus"], second["balance"]) == (0, 50)
    me = await client.get(f"/api/users/me?min_position={second['position']}", headers=headers)
    assert (me.json()["balance"], me.json()["held"], me.json()["available"]) == (50, 0, 50)


async def test_balance_shows_balance_held_and_available_in_one_query(
    app, client, projector, token_for, subject, count_queries
):
    user_id, headers, _ = await registered(client, token_for(subject))
    change = await dispatch(app.state.event_store, purchase_coins, user_id, uuid.uuid4(), 400)
    held = await dispatch(
        app.state.event_store,
        reserve_coins,
        user_id,
        uuid.uuid4(),
        100,
        uuid.uuid4(),
        datetime.now(UTC) + timedelta(1),
    )
    waited = await client.get(f"/api/credits/balance?min_position={held.position}", headers=headers)
    assert int(waited.headers["x-read-position"]) >= held.position

    count_queries.clear()
    response = await client.get("/api/credits/balance", headers=headers)

    assert change.account.balance == 450
    assert response.json() == {"balance": 450, "held": 100, "available": 350, "flagged": False}
    assert len(count_queries) == 1  # the token's account is remembered (api/acting_accounts.py)


async def test_balance_before_registering_is_404(client, token_for, subject):
    response = await client.get("/api/credits/balance", headers=auth(token_for(subject)))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_transactions_are_paged_newest_first_with_a_total_in_constant_queries(
    app, client, projector, token_for, subject, count_queries
):
    user_id, headers, _ = await registered(client, token_for(subject))
    for coins in (400, 850, 1600, 400, 850):
        change = await dispatch(app.state.event_store, purchase_coins, user_id, uuid.uuid4(), coins)
    await client.get(f"/api/credits/balance?min_position={change.position}", headers=headers)

    count_queries.clear()
    first = (await client.get("/api/credits/transactions?limit=4", headers=headers)).json()
    rest = (await client.get("/api/credits/transactions?limit=4&offset=4", headers=headers)).json()
    everything = (await client.get("/api/credits/transactions?limit=100", headers=headers)).json()

    assert len(count_queries) == 3  # one statement per page; the token's account is remembered
    assert [t["sequence"] for t in first["items"]] == [6, 5, 4, 3]
    assert (first["total"], first["next_offset"]) == (6, 4)
    assert [t["sequence"] for t in rest["items"]] == [2, 1]
    assert rest["next_offset"] is None
    newest = everything["items"][0]
    assert (newest["type"], newest["amount"], newest["balance_after"]) == ("purchase", 850, 4150)
    assert everything["items"][-1]["type"] == "welcome_bonus"


async def test_transactions_page_past_the_end_is_empty_but_keeps_the_total(
    client, projector, token_for, subject
):
    _, headers, position = await registered(client, token_for(subject))
    page = await client.get(
        f"/api/credits/transactions?offset=10&min_position={position}", headers=headers
    )
    assert page.json()["items"] == []
    assert page.json()["total"] == 1


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "offset=-1"])
async def test_transactions_limit_and_offset_are_bounded(client, token_for, subject, query):
    response = await client.get(
        f"/api/credits/transactions?{query}", headers=auth(token_for(subject))
    )
    assert response.status_code == 422


async def test_packages_are_the_catalogue_without_a_token(client):
    response = await client.get("/api/credits/packages")
    assert [(p["package_id"], p["coins"], p["popular"]) for p in response.json()] == [
        (p.id, p.coins, p.popular) for p in active_packages()
    ]
    starter = response.json()[0]
    assert (starter["price_inr"], starter["price_usd"], starter["price_inr_paise"]) == (
        "399.00",
        "4.99",
        39900,
    )


async def test_auditor_reads_the_ledger_in_order_and_verifies_it(
    app, client, projector, token_for, subject
):
    user_id, _, _ = await registered(client, token_for(subject))
    change = await dispatch(app.state.event_store, purchase_coins, user_id, uuid.uuid4(), 850)
    auditor = auth(token_for(f"auditor-{uuid.uuid4()}", extra_claims=AUDITOR_CLAIMS))

    ledger = await client.get(
        f"/api/audit/users/{user_id}/ledger?min_position={change.position}", headers=auditor
    )
    verified = await client.get(f"/api/audit/users/{user_id}/verify", headers=auditor)

    entries = ledger.json()["entries"]
    assert [(e["type"], e["balance_after"]) for e in entries] == [
        ("welcome_bonus", 50),
        ("purchase", 900),
    ]
    assert entries[1]["position"] == change.position
    assert verified.json()["ok"] is True
    assert (verified.json()["events"], verified.json()["balance"]) == (2, 900)


async def test_verify_reports_a_read_model_that_disagrees_with_the_events(
    client, projector, token_for, subject, database_url
):
    user_id, _, position = await registered(client, token_for(subject))
    auditor = auth(token_for(f"auditor-{uuid.uuid4()}", extra_claims=AUDITOR_CLAIMS))
    await client.get(f"/api/audit/users/{user_id}/ledger?min_position={position}", headers=auditor)
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            "UPDATE credit_balances SET available = 999 WHERE account_id = $1",
            account_id_for(user_id),
        )
    finally:
        await conn.close()

    report = (await client.get(f"/api/audit/users/{user_id}/verify", headers=auditor)).json()

    assert report["ok"] is False
    assert report["differences"] == [
        {
            "table": "credit_balances",
            "key": "account",
            "field": "available",
            "expected": "50",
            "actual": "999",
        }
    ]


@pytest.mark.parametrize("path", ["ledger", "verify"])
async def test_audit_routes_answer_404_to_anyone_but_an_auditor(
    client, projector, token_for, subject, path
):
    user_id, headers, _ = await registered(client, token_for(subject))
    response = await client.get(f"/api/audit/users/{user_id}/{path}", headers=headers)
    assert response.status_code == 404


@pytest.mark.parametrize("path", ["ledger", "verify"])
async def test_audit_of_a_user_without_a_ledger_is_404(client, token_for, path):
    auditor = auth(token_for(f"auditor-{uuid.uuid4()}", extra_claims=AUDITOR_CLAIMS))
    response = await client.get(f"/api/audit/users/{uuid.uuid4()}/{path}", headers=auditor)
    assert response.status_code == 404


@pytest.mark.slow
async def test_fifty_concurrent_reservations_on_one_account_reserve_exactly_what_fits(
    app, client, projector, token_for, subject
):
    """P4 until `POST /api/insights/unlock` exists: the 50 reservations run the reserve command
    concurrently through the API's own `AsyncEventStore.command` (its bounded thread pool, as a
    route would), and each outcome is mapped to HTTP by the API's `status_for`. The unlock
    endpoint's tests will repeat this over HTTP."""
    user_id, headers, _ = await registered(client, token_for(subject))
    store = app.state.event_store
    await dispatch(store, purchase_coins, user_id, uuid.uuid4(), 1600)  # 1650: room for k = 4
    expires_at = datetime.now(UTC) + timedelta(minutes=20)

    async def unlock() -> int:
        try:
            await dispatch(
                store, reserve_coins, user_id, uuid.uuid4(), 400, uuid.uuid4(), expires_at
            )
        except DomainError as refused:
            return status_for(refused)
        return 201

    statuses = Counter(await asyncio.gather(*(unlock() for _ in range(50))))

    assert statuses == {201: 4, 402: 46}
    events = await store.load(account_id_for(user_id))
    assert sum(isinstance(e, CoinsReserved) for e in events) == 4
    position = (await client.post("/api/users/store", headers=headers)).json()["position"]
    balance = await client.get(f"/api/credits/balance?min_position={position}", headers=headers)
    assert balance.json() == {"balance": 1650, "held": 1600, "available": 50, "flagged": False}
