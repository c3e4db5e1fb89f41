"""Leave and be forgotten (issue 15), end to end over HTTP with real workers and the operator's
commands: register, upload a chat whose participants carry canary names, buy coins, unlock,
export; delete the account; erase it; then look everywhere for the names."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import string
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from relivchats.adapters.identity import mint_local_token
from relivchats.adapters.payments import EventKind
from relivchats.domain.credits import account_id_for
from relivchats.logs import JsonFormatter
from relivchats.settings import Settings
from tests.chat_uploads import small_export, uploaded
from tests.conftest import TEST_SECRET
from tests.helpers import auth, eventually
from tests.insight_flows import unlock
from tests.integration.test_privacy_canary import leaked_in_redis
from tests.payment_flows import Buyer, deliver, delivery, place_order
from tests.worker_platform import (
    Workers,
    job_finished,
    platform_settings,
    running_platform,
)

pytestmark = pytest.mark.slow


def canary_name(prefix: str) -> str:
    return prefix + "".join(random.choices(string.ascii_lowercase, k=10))


class Platform:
    def __init__(self, client: httpx.AsyncClient, workers: Workers, settings: Settings):
        self.client, self.workers, self.settings = client, workers, settings

    def token(self, subject: str) -> str:
        issuer, audience = self.settings.jwt_issuer, self.settings.jwt_audience
        return mint_local_token(TEST_SECRET, subject, issuer=issuer, audience=audience)

    def inject(self, **faults: Any) -> None:
        Path(self.settings.llm_faults_file or "").write_text(json.dumps(faults))

    def relivchats(self, *arguments: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "DATABASE_URL": self.settings.database_url, "LOG_LEVEL": "INFO"}
        command = [sys.executable, "-m", "relivchats", *arguments]
        return subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=120, check=False
        )


@pytest.fixture
async def platform(tmp_path: Path, private_database_url: str) -> AsyncIterator[Platform]:
    settings = platform_settings(
        private_database_url,
        tmp_path,
        insight_attempts=1,
        rate_limit_rag="1000/minute",  # questions asked again while the chat is indexed
        eventstore_pool_size=2,  # a small footprint on the shared PostgreSQL
        api_db_pool_min=1,
        api_db_pool_max=3,
    )
    async with running_platform(settings, tmp_path) as (client, workers, _):
        yield Platform(client, workers, settings)


async def bought_coins(platform: Platform, buyer: Buyer) -> dict[str, Any]:
    order = (await place_order(platform.client, buyer, "razorpay")).json()
    paid = await deliver(platform.client, "razorpay", delivery(order, EventKind.CAPTURED))
    assert paid.status_code == 200, paid.text
    return order


async def fetch(database_url: str, query: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetch(query, *args)
    finally:
        await conn.close()


async def tables_holding(database_url: str, needles: list[str]) -> list[str]:
    """Every table (content tables included, as bytes too) and every event's decoded JSON."""
    leaks = []
    tables = await fetch(
        database_url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
    )
    for table in sorted(row["tablename"] for row in tables):
        for row in await fetch(database_url, f"SELECT t::text AS row FROM {table} t"):
            if any(needle.lower() in row["row"].lower() for needle in needles):
                leaks.append(table)
                break
    for row in await fetch(database_url, "SELECT originator_id, state FROM relivchats_events"):
        decoded = json.dumps(json.loads(bytes(row["state"])), ensure_ascii=False).lower()
        if any(needle.lower() in decoded for needle in needles):
            leaks.append(f"event {row['originator_id']}")
    return leaks


async def ledger_totals(platform: Platform, user_id: uuid.UUID) -> tuple[int, int, int]:
    result = platform.relivchats("audit", "replay", "--user", str(user_id))
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    return report["balance"], report["held"], report["events"]


async def test_a_deleted_account_is_refused_at_once_and_erased_without_a_trace(
    platform: Platform, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    names = [canary_name("Qzorblax"), canary_name("Vexmirel")]
    client, subject = platform.client, f"leaver-{uuid.uuid4().hex}"
    headers = auth(platform.token(subject))
    user_id = uuid.UUID((await client.post("/api/users/store", headers=headers)).json()["user_id"])
    chat = await uploaded(client, headers, small_export(60, participants=tuple(names)))
    chat_id = chat["chat"]["chat_id"]
    order = await bought_coins(platform, Buyer(user_id, headers))
    first = (await unlock(client, headers, chat_id, "romantic")).json()
    assert (await job_finished(client, headers, first["job_id"]))["status"] == "captured"
    question_canary = canary_name("Plimquoz")
    answer = await answered(client, headers, chat_id, f"did {question_canary} ever call?")

    # The right of access: every section, for a user with data in each.
    exported = await client.get("/api/users/me/export", headers=headers)
    assert exported.status_code == 200, exported.text
    export = exported.json()
    assert set(export) >= {"profile", "chats", "conversations", "ledger", "payment_orders"}
    assert export["profile"]["user_id"] == str(user_id)
    [held_chat] = export["chats"]
    assert sorted(held_chat["participants"]) == sorted(names)
    assert held_chat["statistics"]["top_words"]
    assert len(held_chat["messages"]) == 60 and held_chat["messages"][0]["sender"] in names
    assert {i["insight_type"] for i in held_chat["insights"]} and held_chat["insight_jobs"]
    [turn] = export["conversations"]
    assert (turn["turn_id"], turn["chat_id"]) == (answer["turn_id"], chat_id)
    assert question_canary in turn["question"] and turn["answer"] == answer["answer"]
    kinds = [entry["kind"] for entry in export["ledger"]]
    assert kinds[:2] == ["welcome_bonus", "purchase"] and "capture" in kinds
    assert [o["order_id"] for o in export["payment_orders"]] == [order["order_id"]]

    # Before deletion the names are in the chats read row (the scan sees them), never in events;
    # the question is sealed like messages.
    assert await tables_holding(platform.settings.database_url, names) == ["chats"]
    assert await tables_holding(platform.settings.database_url, [question_canary]) == []

    # A second unlock, slowed down, still holds its coins when the account is deleted.
    platform.inject(delay_s=8)
    second = (await unlock(client, headers, chat_id, "friendship")).json()
    assert "job_id" in second, second
    deleted = await client.delete("/api/users/delete-account", headers=headers)
    assert deleted.status_code == 200, deleted.text
    assert (deleted.json()["chats_deleted"], deleted.json()["reservations_released"]) == (1, 1), (
        deleted.json()
    )
    assert "x-consistency" not in deleted.headers

    for path in (
        "/api/users/me",
        "/api/chats",
        f"/api/chats/{chat_id}",
        f"/api/chats/{chat_id}/messages",
        "/api/credits/balance",
        "/api/credits/transactions",
        "/api/users/me/export",
        f"/api/rag/conversations/{chat_id}",
    ):
        refused = await client.get(path, headers=headers)
        assert refused.status_code == 401, path
        assert refused.json()["error"]["code"] == "account_deleted"
    assert (
        await fetch(
            platform.settings.database_url, "SELECT 1 FROM chats WHERE owner_id = $1", user_id
        )
        == []
    )
    assert (
        await fetch(
            platform.settings.database_url,
            "SELECT 1 FROM credit_reservations WHERE account_id = $1 AND status = 'open'",
            account_id_for(user_id),
        )
        == []
    )
    replayed = platform.relivchats("audit", "replay", "--all")
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr

    # The slowed insights still arrive: recorded late, never charged.
    platform.inject()
    await eventually(lambda: _late_results(platform, second["job_id"]), within=90)
    balance, held, _ = await ledger_totals(platform, user_id)
    assert (balance, held) == (50 + 850 - 400, 0)

    erased = platform.relivchats("users", "erase", "--user", str(user_id), "--now")
    assert erased.returncode == 0, erased.stdout + erased.stderr
    await eventually(lambda: _erased_and_purged(platform, user_id, chat_id), within=30)

    assert await tables_holding(platform.settings.database_url, names) == []
    assert (
        await fetch(
            platform.settings.database_url,
            "SELECT 1 FROM conversation_contents WHERE user_id = $1 UNION ALL"
            " SELECT 1 FROM rag_turns WHERE user_id = $1",
            user_id,
        )
        == []
    )
    for name in [*names, question_canary]:
        assert await leaked_in_redis(platform.settings.redis_url, name.lower().encode()) == []
        assert name.encode() not in b"".join(
            p.read_bytes() for p in (platform.workers.folder / "data").rglob("*") if p.is_file()
        )
        for process in ("indexer", "generation"):
            assert name.lower() not in platform.workers.log(process).lower()
        assert name.lower() not in (erased.stdout + erased.stderr).lower()
    formatter = JsonFormatter()
    assert [
        r for r in caplog.records if any(n.lower() in formatter.format(r).lower() for n in names)
    ] == []
    assert await ledger_totals(platform, user_id) == (balance, held, _)
    verified = platform.relivchats("audit", "verify", "--all")
    assert verified.returncode == 0, verified.stdout + verified.stderr

    # The subject comes back: a new, empty account, without a second welcome bonus.
    await asyncio.sleep(1.1)  # a token issued after the deletion (iat has whole seconds)
    again = await client.post("/api/users/store", headers=auth(platform.token(subject)))
    assert again.status_code == 201, again.text
    assert again.json()["user_id"] != str(user_id)
    assert (again.json()["welcome_bonus"], again.json()["balance"]) == (0, 0)
    assert (await client.get("/api/users/me", headers=headers)).status_code == 401


async def answered(
    client: httpx.AsyncClient, headers: dict[str, str], chat_id: str, question: str
) -> Any:
    """Ask until the chat's index is searchable (202 while indexing, 503 while the API loads
    its embedder), then the answer's body."""
    body = {"chat_id": chat_id, "question": question}
    answers: list[Any] = []

    async def asked() -> bool:
        response = await client.post("/api/rag/query", json=body, headers=headers)
        assert response.status_code in (200, 202, 503), response.text
        if response.status_code == 200:
            answers.append(response.json())
        return bool(answers)

    await eventually(asked, within=90)
    return answers[0]


async def _late_results(platform: Platform, job_id: str) -> bool:
    rows = await fetch(
        platform.settings.database_url,
        "SELECT count(*) AS n FROM relivchats_events WHERE originator_id = $1"
        " AND topic IN ('insights.InsightSucceeded.v1', 'insights.InsightFailed.v1')",
        uuid.UUID(job_id),
    )
    return bool(rows[0]["n"])


async def _erased_and_purged(platform: Platform, user_id: uuid.UUID, chat_id: str) -> bool:
    erased = await fetch(
        platform.settings.database_url,
        "SELECT 1 FROM users WHERE user_id = $1 AND erased_at IS NOT NULL",
        user_id,
    )
    pending = await fetch(
        platform.settings.database_url,
        "SELECT 1 FROM chats_pending_purge WHERE chat_id = $1",
        uuid.UUID(chat_id),
    )
    return bool(erased) and not pending
