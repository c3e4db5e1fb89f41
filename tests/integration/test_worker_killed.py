"""R4: a worker killed with SIGKILL mid-generation; the job still settles exactly once.

The broker's visibility timeout is 10 s here (60 s by default), so a task the dead worker held
comes back to a new worker within seconds; generation is slowed down (LLM faults file) so the
kill lands while insights are being written. If no worker ever comes back, the reservation
expires and the sweeper releases it and marks the job expired, in one save; results that
arrive after that are kept and never charged.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from relivchats.adapters.eventstore import EventStore
from relivchats.adapters.identity import mint_local_token
from relivchats.commands.insights import unlock as unlock_command
from relivchats.commands.unit_of_work import dispatch
from relivchats.domain.credits import ReservationCaptured, ReservationReleased, account_id_for
from relivchats.domain.insights import InsightSucceeded, JobExpired, JobSettled
from relivchats.workers.sweeper import sweep
from tests.chat_uploads import small_export, uploaded
from tests.conftest import TEST_SECRET, throwaway_database
from tests.helpers import eventually
from tests.insight_flows import ROMANTIC_TYPES, unlock, user_with_coins
from tests.worker_platform import (
    Workers,
    job_finished,
    platform_settings,
    running_platform,
)

pytestmark = pytest.mark.slow

VISIBILITY_TIMEOUT_S = 10
GENERATION = ["worker", "--queues", "generation", "--concurrency", "2"]


@pytest.fixture(scope="module")
async def platform(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Any]:
    folder = tmp_path_factory.mktemp("worker-killed")
    with throwaway_database() as database_url:
        settings = platform_settings(
            database_url,
            folder,
            celery_visibility_timeout_s=VISIBILITY_TIMEOUT_S,
            celery_task_time_limit_s=9,
            celery_task_soft_time_limit_s=8,
            insight_timeout_s=8,
        )
        async with running_platform(settings, folder) as platform:
            yield platform


def slow_generation(workers: Workers, delay_s: float) -> None:
    Path(workers.settings.llm_faults_file or "").write_text(json.dumps({"delay_s": delay_s}))


async def a_user_and_chat(client: Any) -> tuple[uuid.UUID, dict[str, str], str]:
    token = mint_local_token(
        TEST_SECRET, f"killed-{uuid.uuid4().hex}", issuer="relivchats-local", audience="relivchats"
    )
    user_id, headers = await user_with_coins(client, client.app.state.event_store, token, 400)
    body = await uploaded(client, headers, small_export(120, participants=("Asha", "Ben")))
    return user_id, headers, body["chat"]["chat_id"]


def settlements(store: EventStore, user_id: uuid.UUID) -> list[Any]:
    return [
        event
        for event in store.load(account_id_for(user_id))
        if isinstance(event, ReservationCaptured | ReservationReleased)
    ]


def deliveries(workers: Workers, job_id: str) -> Counter[str]:
    """How many times the generation workers received each of the job's tasks."""
    found = re.findall(
        rf"generate_insight\[generate-{job_id}-(\w+)\] received", workers.log("generation")
    )
    return Counter(found)


async def generation_started(workers: Workers, job_id: str) -> None:
    async def received() -> bool:
        return bool(deliveries(workers, job_id))

    await eventually(received, within=60)


async def test_a_worker_killed_mid_generation_still_settles_the_job_exactly_once(platform):
    client, workers, store = platform
    slow_generation(workers, delay_s=3)
    user_id, headers, chat_id = await a_user_and_chat(client)
    job = (await unlock(client, headers, chat_id)).json()
    await generation_started(workers, job["job_id"])
    await asyncio.sleep(1)  # two insights are being written (3 s each) when the kill lands

    workers.kill("generation")
    slow_generation(workers, delay_s=0)
    workers.start("generation", GENERATION)
    final = await job_finished(client, headers, job["job_id"], within=VISIBILITY_TIMEOUT_S + 60)

    assert final["status"] == "captured"
    events = store.load(uuid.UUID(job["job_id"]))
    assert sum(isinstance(event, JobSettled) for event in events) == 1
    succeeded = [e.insight_type for e in events if isinstance(e, InsightSucceeded)]
    assert sorted(succeeded) == sorted(ROMANTIC_TYPES)  # each once
    assert [type(e) for e in settlements(store, user_id)] == [ReservationCaptured]
    redelivered = [kind for kind, count in deliveries(workers, job["job_id"]).items() if count > 1]
    assert redelivered  # the killed worker's tasks came back to the new one


async def test_a_job_whose_workers_never_return_expires_and_late_results_are_free(platform):
    client, workers, store = platform
    user_id, headers, chat_id = await a_user_and_chat(client)
    workers.kill("generation")  # nobody will write insights until the reservation expires
    api_store = client.app.state.event_store
    opened = await dispatch(
        api_store,
        unlock_command,
        user_id,
        uuid.UUID(chat_id),
        "romantic",
        None,
        timedelta(seconds=3),
    )
    job_id = str(opened.job.id)

    async def projected_and_due() -> bool:
        status = await client.get(f"/api/insights/jobs/{job_id}/status", headers=headers)
        return status.json().get("status") == "generating" and datetime.now(UTC) > (
            opened.job.expires_at
        )

    await eventually(projected_and_due, within=60)
    swept = await asyncio.to_thread(
        sweep, store, workers.settings.database_url, datetime.now(UTC), 500
    )

    assert swept.released >= 1
    expired = await job_finished(client, headers, job_id)
    assert expired["status"] == "expired"
    workers.start("generation", GENERATION)

    async def all_written() -> bool:
        found = await client.get(f"/api/insights/chats/{chat_id}", headers=headers)
        return len(found.json()["insights"]) == len(ROMANTIC_TYPES)

    await eventually(all_written, within=60)
    events = store.load(opened.job.id)
    assert sum(isinstance(event, JobExpired) for event in events) == 1
    assert not any(isinstance(event, JobSettled) for event in events)
    assert [(type(e), e.reason) for e in settlements(store, user_id)] == [
        (ReservationReleased, "expired")
    ]
    balance = await client.get("/api/credits/balance", headers=headers)
    assert balance.json()["available"] == 450
    again = await unlock(client, headers, chat_id)
    assert again.json()["error"]["code"] == "already_unlocked"
