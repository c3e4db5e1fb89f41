"""Unlock to settlement with real Celery workers, Redis and PostgreSQL.

One platform for the module (workers take seconds to start): an indexer (the vector store's
single owner, loading the local embedder) and a generation worker with two processes, on a
private database; the API and the projector (with the dispatcher) run in the test's loop.
Faults are injected through the test-only LLM faults file.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis

from relivchats.adapters.eventstore import EventStore
from relivchats.adapters.identity import mint_local_token
from relivchats.domain.catalogue import validate_insight
from relivchats.domain.insights import InsightSucceeded, JobSettled
from relivchats.projections.insights import InsightsProjection
from relivchats.projections.rebuild import differences
from tests.chat_uploads import export_of, uploaded
from tests.conftest import TEST_SECRET, throwaway_database
from tests.fakes.chat_exports import FakeMessage, generate_chat
from tests.helpers import eventually, free_port
from tests.insight_flows import ROMANTIC_TYPES, unlock, user_with_coins
from tests.worker_platform import (
    Workers,
    job_finished,
    platform_settings,
    running_platform,
)

pytestmark = pytest.mark.slow

CANARY = "canary-4e7a91 our secret beach in Gokarna"
FRIENDSHIP_TYPES = [
    "friendship_trust_loyalty",
    "friendship_support_dynamics",
    "friendship_vitality",
]


class Platform:
    def __init__(self, client: httpx.AsyncClient, workers: Workers, store: EventStore):
        self.client, self.workers, self.store = client, workers, store
        self.settings = workers.settings

    def inject(self, **faults: Any) -> None:
        Path(self.settings.llm_faults_file or "").write_text(json.dumps(faults))

    async def user(self, coins: int) -> dict[str, str]:
        token = mint_local_token(
            TEST_SECRET,
            f"flow-{uuid.uuid4().hex}",
            issuer=self.settings.jwt_issuer,
            audience=self.settings.jwt_audience,
        )
        api_store = self.client.app.state.event_store  # type: ignore[attr-defined]
        _, headers = await user_with_coins(self.client, api_store, token, coins)
        return headers

    async def chat(self, headers: dict[str, str], seed: int, count: int = 240) -> str:
        """A two-person chat that opens with the canary message."""
        messages = generate_chat(count, seed=seed, participants=("Asha", "Ben"))
        moment = messages[0].timestamp - timedelta(minutes=3)
        messages.insert(0, FakeMessage(moment, "Asha", f"remember {CANARY}? I miss you"))
        body = await uploaded(self.client, headers, export_of(messages))
        chat_id: str = body["chat"]["chat_id"]
        return chat_id


@pytest.fixture(scope="module")
async def platform(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Platform]:
    folder = tmp_path_factory.mktemp("insights-flow")
    with throwaway_database() as database_url:
        settings = platform_settings(
            database_url,
            folder,
            insight_attempts=2,
            worker_metrics_port=free_port(),
            indexer_metrics_port=free_port(),
        )
        async with running_platform(settings, folder) as (client, workers, store):
            yield Platform(client, workers, store)


def files_holding(folder: Path, needle: bytes) -> list[Path]:
    """Files under `folder` (the local vector store) whose bytes contain `needle`."""
    return [path for path in folder.rglob("*") if path.is_file() and needle in path.read_bytes()]


async def insights_of(platform: Platform, headers: dict[str, str], chat_id: str) -> list[Any]:
    response = await platform.client.get(f"/api/insights/chats/{chat_id}", headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json()["insights"])


async def balance_of(platform: Platform, headers: dict[str, str]) -> dict[str, Any]:
    response = await platform.client.get("/api/credits/balance", headers=headers)
    return dict(response.json())


async def test_unlock_indexes_generates_every_insight_and_captures_the_reservation(platform):
    platform.inject()
    headers = await platform.user(coins=400)
    chat_id = await platform.chat(headers, seed=11)
    started = time.perf_counter()

    opened = (await unlock(platform.client, headers, chat_id)).json()
    final = await job_finished(platform.client, headers, opened["job_id"])

    seconds = time.perf_counter() - started
    print(f"\nunlock -> captured with real workers: {seconds:.1f} s (incl. indexing)")
    assert final["status"] == "captured", platform.workers.log("generation")[-3000:]
    assert final["progress"]["succeeded"] == 6
    insights = await insights_of(platform, headers, chat_id)
    assert [i["insight_type"] for i in insights] == ROMANTIC_TYPES
    for insight in insights:
        assert validate_insight(insight["insight_type"], insight["content"]) == []
        generation = insight["generation"]
        assert generation["offline"] is True
        assert generation["prompt_tokens"] > 0
        assert generation["excerpts_used"] > 0
    assert await balance_of(platform, headers) == {
        "balance": 50,
        "held": 0,
        "available": 50,
        "flagged": False,
    }
    vectors = await platform.client.get(f"/api/chats/{chat_id}/vector-status", headers=headers)
    assert vectors.json()["searchable"] is True


def scraped(port: int) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample a running process exports on its metrics port."""
    from prometheus_client.parser import text_string_to_metric_families

    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return sum(v for (n, ls), v in samples.items() if n == name and set(labels.items()) <= ls)


async def test_the_workers_export_task_counts_durations_queue_depth_and_tokens(platform):
    """Runs after a job was generated: what `curl` of each worker's metrics port shows."""
    generation = scraped(platform.settings.worker_metrics_port)
    indexing = scraped(platform.settings.indexer_metrics_port)

    prepare, generate = "indexing.prepare_job", "generation.generate_insight"
    succeeded = {"outcome": "succeeded"}
    assert value(indexing, "relivchats_tasks_total", task=prepare, **succeeded) >= 1
    assert value(generation, "relivchats_tasks_total", task=generate, **succeeded) >= 6
    assert value(indexing, "relivchats_task_duration_seconds_count", task=prepare) >= 1
    assert value(generation, "relivchats_task_duration_seconds_count", task=generate) >= 6
    assert value(generation, "relivchats_task_queue_wait_seconds_count", queue="generation") >= 6
    assert value(indexing, "relivchats_embedded_chunks_total") > 0
    assert value(generation, "relivchats_llm_tokens_total", kind="prompt") > 0
    for queue in ("indexing", "generation", "maintenance"):
        assert ("relivchats_queue_depth", frozenset({("queue", queue)})) in generation


async def test_a_failing_insight_releases_the_reservation_and_retry_regenerates_only_it(platform):
    platform.inject(fail=["friendship_vitality"])
    headers = await platform.user(coins=400)
    chat_id = await platform.chat(headers, seed=12)

    opened = (await unlock(platform.client, headers, chat_id, "friendship")).json()
    final = await job_finished(platform.client, headers, opened["job_id"])

    assert final["status"] == "released"
    failed = [i for i in final["insights"] if i["status"] == "failed"]
    assert [(i["insight_type"], i["error"], i["attempts"]) for i in failed] == [
        ("friendship_vitality", "provider_unavailable", 2)
    ]
    kept = await insights_of(platform, headers, chat_id)
    assert [i["insight_type"] for i in kept] == FRIENDSHIP_TYPES[:2]
    assert (await balance_of(platform, headers))["available"] == 450
    assert final["retry_url"] == f"/api/insights/jobs/{opened['job_id']}/retry"

    platform.inject()
    retried = await platform.client.post(final["retry_url"], headers=headers)

    assert retried.status_code == 201, retried.text
    retry = retried.json()
    assert (retry["insight_types"], retry["reservation"]["amount"]) == (
        ["friendship_vitality"],
        134,
    )
    assert (await job_finished(platform.client, headers, retry["job_id"]))["status"] == "captured"
    assert [i["insight_type"] for i in await insights_of(platform, headers, chat_id)] == (
        FRIENDSHIP_TYPES
    )
    assert (await balance_of(platform, headers))["balance"] == 450 - 134
    retry_events = platform.store.load(uuid.UUID(retry["job_id"]))
    assert [e.insight_type for e in retry_events if isinstance(e, InsightSucceeded)] == [
        "friendship_vitality"
    ]
    first_events = platform.store.load(uuid.UUID(opened["job_id"]))
    assert [e.outcome for e in first_events if isinstance(e, JobSettled)] == ["released"]


async def test_no_chat_text_reaches_events_vector_payloads_or_the_broker(platform):
    platform.inject()
    headers = await platform.user(coins=400)
    chat_id = await platform.chat(headers, seed=13, count=30)  # one chunk: quoted as evidence
    opened = (await unlock(platform.client, headers, chat_id, "friendship")).json()
    assert (await job_finished(platform.client, headers, opened["job_id"]))["status"] == "captured"
    assert any(
        CANARY in json.dumps(i["content"]) for i in await insights_of(platform, headers, chat_id)
    )

    conn = await asyncpg.connect(platform.settings.database_url)
    try:
        for table in ("relivchats_events", "insight_jobs", "insight_results", "insight_contents"):
            found = await conn.fetchval(
                f"SELECT count(*) FROM {table} t WHERE t::text LIKE '%' || $1 || '%'",
                "canary-4e7a91",
            )
            assert found == 0, table
    finally:
        await conn.close()
    assert files_holding(Path(platform.settings.data_dir), b"canary-4e7a91") == []
    broker = redis.Redis.from_url(platform.settings.redis_url)
    try:
        for key in broker.scan_iter(f"{platform.settings.celery_key_prefix}*"):
            assert b"canary-4e7a91" not in repr(broker.dump(key)).encode(), key
    finally:
        broker.close()


async def test_deleting_the_chat_forgets_its_insights(platform):
    platform.inject()
    headers = await platform.user(coins=400)
    chat_id = await platform.chat(headers, seed=14)
    opened = (await unlock(platform.client, headers, chat_id, "friendship")).json()
    await job_finished(platform.client, headers, opened["job_id"])

    deleted = await platform.client.delete(f"/api/chats/{chat_id}", headers=headers)

    assert deleted.status_code == 200
    gone = await platform.client.get(f"/api/insights/chats/{chat_id}", headers=headers)
    assert gone.status_code == 404
    conn = await asyncpg.connect(platform.settings.database_url)
    try:

        async def erased() -> bool:
            left = await conn.fetchval(
                "SELECT count(*) FROM insight_contents WHERE chat_id = $1", uuid.UUID(chat_id)
            )
            return left == 0

        await eventually(erased, within=30)
        rows = await conn.fetchval(
            "SELECT count(*) FROM insight_jobs WHERE chat_id = $1", uuid.UUID(chat_id)
        )
        assert rows == 0
    finally:
        await conn.close()


async def test_the_insights_read_model_equals_a_rebuild_from_the_events(platform):
    database_url = platform.settings.database_url
    conn = await asyncpg.connect(database_url)
    try:

        async def caught_up() -> bool:
            head = await conn.fetchval("SELECT max(notification_id) FROM relivchats_events")
            position = await conn.fetchval(
                "SELECT position FROM projection_positions WHERE name = 'insights'"
            )
            return bool(position >= head)

        await eventually(caught_up)
    finally:
        await conn.close()

    assert await differences(database_url, InsightsProjection()) == {
        "insight_jobs": 0,
        "insight_results": 0,
    }


async def test_reading_a_chats_insights_costs_the_same_queries_however_many_exist(
    platform,
    count_queries,
):
    platform.inject()
    headers = await platform.user(coins=800)
    chat_id = await platform.chat(headers, seed=15, count=60)
    counted = []
    for category in ("friendship", "romantic"):
        job = (await unlock(platform.client, headers, chat_id, category)).json()
        await job_finished(platform.client, headers, job["job_id"])
        count_queries.clear()
        found = await insights_of(platform, headers, chat_id)
        counted.append((len(found), len(count_queries)))

    assert counted == [(3, 3), (9, 3)]  # the chat row, insights, jobs (the account: remembered)
