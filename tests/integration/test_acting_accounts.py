"""A token's account is remembered per API process (api/acting_accounts.py), never past a change.

Against real PostgreSQL: the users projection's notice reaches another API process, a lost
listening connection makes every request look up again, and a lookup that overlapped a change
is not remembered.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from relivchats.api.acting_accounts import ActingAccounts
from relivchats.domain.users import subject_key_for
from relivchats.projections.users import ACCOUNTS_CHANGED
from tests.helpers import auth, eventually


@pytest.fixture
async def second_process(settings) -> AsyncIterator[httpx.AsyncClient]:
    """Another API process on the same database: an app of its own, sharing nothing in memory."""
    from relivchats.api.app import create_app

    other = create_app(settings)
    async with other.router.lifespan_context(other):
        transport = httpx.ASGITransport(app=other)
        async with httpx.AsyncClient(transport=transport, base_url="http://other") as client:
            yield client


async def test_a_deletion_through_one_process_is_refused_by_another_that_remembered_the_account(
    client, second_process, projector, token_for, subject
):
    headers = auth(token_for(subject))
    stored = (await client.post("/api/users/store", headers=headers)).json()
    before = await second_process.get(
        f"/api/credits/balance?min_position={stored['position']}", headers=headers
    )
    remembered = await second_process.get("/api/credits/balance", headers=headers)

    deleted = await client.delete("/api/users/delete-account", headers=headers)
    after = await second_process.get("/api/credits/balance", headers=headers)

    assert (before.status_code, remembered.status_code, deleted.status_code) == (200, 200, 200)
    assert after.status_code == 401, after.text
    assert after.json()["error"]["code"] == "account_deleted"


class CountingPool:
    """Stands in for the read pool: no account yet for anyone; counts lookups, may hold them."""

    def __init__(self) -> None:
        self.lookups = 0
        self.release = asyncio.Event()
        self.release.set()

    async def fetchrow(self, _query: str, *_args: Any) -> None:
        self.lookups += 1
        await self.release.wait()


@pytest.fixture
async def listening(database_url) -> AsyncIterator[tuple[ActingAccounts, CountingPool, Any]]:
    pool = CountingPool()
    accounts = ActingAccounts(pool)  # type: ignore[arg-type]
    conn = await accounts.listen(database_url)
    task = asyncio.create_task(accounts.keep_listening(database_url, conn))
    yield accounts, pool, conn
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_an_account_is_looked_up_once_while_listening(listening):
    accounts, pool, _ = listening
    key = subject_key_for(f"user-{uuid.uuid4().hex}")

    for _ in range(3):
        assert await accounts.latest(key) is None

    assert pool.lookups == 1


async def test_after_losing_its_connection_a_process_looks_up_every_time_until_it_listens_again(
    listening, database_url
):
    accounts, pool, conn = listening
    key = subject_key_for(f"user-{uuid.uuid4().hex}")
    await accounts.latest(key)

    admin = await asyncpg.connect(database_url)
    try:
        await admin.execute("SELECT pg_terminate_backend($1)", conn.get_server_pid())
    finally:
        await admin.close()
    await eventually(lambda: _true(not accounts.listening))
    await accounts.latest(key)
    await accounts.latest(key)
    looked_up_while_deaf = pool.lookups

    await eventually(lambda: _true(accounts.listening))
    await accounts.latest(key)
    await accounts.latest(key)

    assert looked_up_while_deaf == 3
    assert pool.lookups == 4


async def test_a_lookup_that_overlapped_a_change_is_not_remembered(listening):
    accounts, pool, _ = listening
    key = subject_key_for(f"user-{uuid.uuid4().hex}")
    pool.release.clear()

    lookup = asyncio.create_task(accounts.latest(key))
    await eventually(lambda: _true(pool.lookups == 1))
    accounts.forget(subject_key_for("someone else"))
    pool.release.set()
    await lookup
    await accounts.latest(key)

    assert pool.lookups == 2


async def test_a_notice_from_the_users_projection_forgets_the_subject(listening, database_url):
    accounts, pool, _ = listening
    key = subject_key_for(f"user-{uuid.uuid4().hex}")
    await accounts.latest(key)

    notifier = await asyncpg.connect(database_url)
    try:
        await notifier.execute("SELECT pg_notify($1, $2)", ACCOUNTS_CHANGED, str(key))
    finally:
        await notifier.close()

    async def forgotten() -> bool:
        before = pool.lookups
        await accounts.latest(key)
        return pool.lookups > before

    await eventually(forgotten)


async def _true(value: bool) -> bool:
    return value
