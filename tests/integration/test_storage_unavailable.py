"""Storage trouble answers 503 with Retry-After, never 500; the retries before it really run.

The trouble is real: another connection holds the events table's lock (what a long migration or
a stuck writer does), a read table is locked past the statement timeout, the read pool points
at a port where no server listens or has no connection to spare.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from prometheus_client import REGISTRY

from relivchats.adapters.database import READ_ATTEMPTS, ReadPool
from relivchats.adapters.eventstore import INSERT_ATTEMPTS, EventStore
from relivchats.adapters.payments import EventKind
from relivchats.adapters.storage import StorageUnavailable
from relivchats.commands.unit_of_work import UnitOfWork, execute
from relivchats.domain.errors import Busy
from relivchats.domain.events import next_event_fields
from relivchats.domain.users import UserRegistered
from relivchats.settings import Settings
from tests.helpers import auth
from tests.payment_flows import deliver, delivery
from tests.throwaway_postgres import free_port


def retries(operation: str) -> float:
    return (
        REGISTRY.get_sample_value("relivchats_storage_retries_total", {"operation": operation})
        or 0.0
    )


def conflict_retries() -> float:
    return REGISTRY.get_sample_value("relivchats_version_conflict_retries_total") or 0.0


@contextlib.asynccontextmanager
async def api(settings: Settings, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    from relivchats.api.app import create_app

    application = create_app(settings.model_copy(update=overrides))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


@contextlib.asynccontextmanager
async def table_locked(database_url: str, table: str, mode: str) -> AsyncIterator[None]:
    """Another session holds `LOCK TABLE table IN mode` until the block ends."""
    conn = await asyncpg.connect(database_url)
    try:
        async with conn.transaction():
            await conn.execute(f"LOCK TABLE {table} IN {mode} MODE")
            yield
    finally:
        await conn.close()


def assert_unavailable(response: httpx.Response, code: str) -> None:
    assert response.status_code == 503, response.text
    assert int(response.headers["retry-after"]) > 0
    error = response.json()["error"]
    assert error["code"] == code
    assert error["request_id"]
    assert "Traceback" not in response.text and "relivchats_events" not in response.text


async def test_write_while_the_events_table_is_locked_answers_503_then_succeeds(
    settings, database_url, token_for, subject
):
    headers = auth(token_for(subject))
    async with api(settings, eventstore_lock_timeout_s=1) as client:
        before = retries("append")
        async with table_locked(database_url, "relivchats_events", "EXCLUSIVE"):
            started = time.monotonic()
            refused = await client.post("/api/users/store", headers=headers)
            waited = time.monotonic() - started
        assert_unavailable(refused, "storage_unavailable")
        # Every insert attempt waited out the 1 s lock timeout: the bounded retry ran.
        assert retries("append") - before == INSERT_ATTEMPTS - 1
        assert waited >= INSERT_ATTEMPTS * 1.0

        retried = await client.post("/api/users/store", headers=headers)
        assert retried.status_code == 201, retried.text
        assert retried.json()["created"] is True  # the refused write left nothing behind

        scraped = (await client.get("/metrics")).text
        assert 'relivchats_storage_retries_total{operation="append"}' in scraped
        assert "relivchats_version_conflict_retries_total" in scraped


async def test_webhook_while_the_events_table_is_locked_answers_503_so_the_provider_redelivers(
    settings, database_url
):
    order = {
        "order_id": str(uuid.uuid4()),
        "provider": "razorpay",
        "provider_order_id": f"order_{uuid.uuid4().hex[:14]}",
        "amount_minor": 100,
        "currency": "INR",
    }
    webhook = delivery(order, EventKind.CAPTURED)
    async with api(settings, eventstore_lock_timeout_s=1) as client:
        async with table_locked(database_url, "relivchats_events", "EXCLUSIVE"):
            refused = await deliver(client, "razorpay", webhook)
        assert_unavailable(refused, "storage_unavailable")
        redelivered = await deliver(client, "razorpay", webhook)
    assert redelivered.status_code == 200, redelivered.text
    assert redelivered.json()["outcome"] == "unmatched"  # recorded once, now


async def test_a_request_past_its_deadline_answers_503_in_time(
    settings, database_url, token_for, subject
):
    headers = auth(token_for(subject))
    async with (
        api(
            settings,
            request_deadline_s=0.8,
            min_position_timeout_s=0.2,
            eventstore_lock_timeout_s=5,
        ) as client,
        table_locked(database_url, "relivchats_events", "EXCLUSIVE"),
    ):
        started = time.monotonic()
        refused = await client.post("/api/users/store", headers=headers)
        answered_in = time.monotonic() - started
    assert_unavailable(refused, "deadline_exceeded")
    assert answered_in < 0.8 + 1.0  # the deadline, plus scheduling slack on a busy machine


async def test_a_read_past_the_statement_timeout_answers_503(
    settings, database_url, token_for, subject, store
):
    headers = auth(token_for(subject))
    async with api(settings, api_statement_timeout_ms=300) as client:
        await client.post("/api/users/store", headers=headers)
        async with table_locked(database_url, "users", "ACCESS EXCLUSIVE"):
            refused = await client.get("/api/users/me", headers=headers)
    assert_unavailable(refused, "storage_unavailable")


async def test_reads_from_a_server_that_refuses_connections_are_tried_again_then_refused():
    dead = f"postgresql://postgres@127.0.0.1:{free_port()}/nothing"
    pool = await ReadPool.open(dead, min_size=0, max_size=2, statement_timeout_ms=1000)
    try:
        before = retries("read")
        with pytest.raises(StorageUnavailable):
            await pool.fetchval("SELECT 1")
        assert retries("read") - before == READ_ATTEMPTS - 1
        with pytest.raises(StorageUnavailable):
            async with pool.connection():
                pass
        assert retries("read") - before == 2 * (READ_ATTEMPTS - 1)
    finally:
        await pool.close()


async def test_an_exhausted_read_pool_is_storage_unavailable_without_retrying(database_url):
    pool = await ReadPool.open(database_url, min_size=1, max_size=1, statement_timeout_ms=1000)
    try:
        before = retries("read")
        async with pool.connection():
            with pytest.raises(StorageUnavailable):
                async with pool.connection(acquire_timeout=0.1):
                    pass
        assert retries("read") == before
        assert await pool.fetchval("SELECT 1") == 1  # and it serves again once freed
    finally:
        await pool.close()


def test_version_conflicts_are_retried_command_max_attempts_times_and_counted(settings):
    store = EventStore(settings.model_copy(update={"command_max_attempts": 3}))
    user_id = uuid.uuid4()
    store.append(UserRegistered(**next_event_fields(user_id, 0)))

    def append_version_one_again(uow: UnitOfWork) -> int:
        uow.record(UserRegistered(**next_event_fields(user_id, 0)))
        return uow.save().position

    before = conflict_retries()
    try:
        with pytest.raises(Busy) as refused:
            execute(store, append_version_one_again)
    finally:
        store.close()
    assert refused.value.details["attempts"] == 3
    assert conflict_retries() - before == 3


async def test_an_append_past_the_statement_timeout_is_retried_then_storage_unavailable(
    settings, database_url
):
    store = EventStore(
        settings.model_copy(
            update={"eventstore_statement_timeout_ms": 300, "eventstore_lock_timeout_s": 5}
        )
    )
    before = retries("append")
    try:
        async with table_locked(database_url, "relivchats_events", "EXCLUSIVE"):
            with pytest.raises(StorageUnavailable):
                await asyncio.to_thread(
                    store.append, UserRegistered(**next_event_fields(uuid.uuid4(), 0))
                )
    finally:
        store.close()
    assert retries("append") - before == INSERT_ATTEMPTS - 1
