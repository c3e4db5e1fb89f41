"""`relivchats audit replay|export` against a database of its own, as an operator runs it."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import subprocess
import sys
import uuid

import asyncpg
import pytest

from relivchats.adapters.eventstore import EventStore
from relivchats.commands.unit_of_work import execute
from relivchats.commands.users import register_user
from relivchats.domain.credits import account_id_for
from relivchats.projections.ledger import LedgerProjection
from relivchats.projections.rebuild import rebuild
from relivchats.settings import Settings
from tests.ledger_commands import purchase_coins


def relivchats(database_url: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-m", "relivchats", "audit", *arguments]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture
async def ledger_database(private_database_url: str) -> tuple[str, uuid.UUID]:
    """Two users with a few coin movements, projected."""
    store = EventStore(Settings(database_url=private_database_url))
    try:
        users = [execute(store, register_user, f"audited-{n}").user.id for n in range(2)]
        execute(store, purchase_coins, users[0], uuid.uuid4(), 850)
    finally:
        store.close()
    await rebuild(private_database_url, LedgerProjection())
    return private_database_url, users[0]


async def test_replay_of_a_consistent_ledger_exits_zero(ledger_database):
    database_url, user_id = ledger_database
    one = await asyncio.to_thread(relivchats, database_url, "replay", "--user", str(user_id))
    every = await asyncio.to_thread(relivchats, database_url, "replay", "--all")

    assert one.returncode == 0, one.stderr
    assert json.loads(one.stdout)["balance"] == 900
    assert every.returncode == 0, every.stderr
    assert json.loads(every.stdout)["accounts"] == 2
    assert json.loads(every.stdout)["events"] == 3


async def test_replay_exits_non_zero_on_any_difference(ledger_database):
    database_url, user_id = ledger_database
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            "UPDATE credit_transactions SET description = 'edited' WHERE account_id = $1"
            " AND version = 2",
            account_id_for(user_id),
        )
    finally:
        await conn.close()

    every = await asyncio.to_thread(relivchats, database_url, "replay", "--all")

    assert every.returncode == 1
    report = json.loads(every.stdout)
    assert report["accounts_with_differences"] == 1
    [difference] = report["differences"][0]["differences"]
    assert (difference["table"], difference["key"], difference["field"]) == (
        "credit_transactions",
        "2",
        "description",
    )


async def test_replay_of_an_unknown_user_says_so(ledger_database):
    database_url, _ = ledger_database
    result = await asyncio.to_thread(
        relivchats, database_url, "replay", "--user", str(uuid.uuid4())
    )
    assert result.returncode == 2
    assert "no ledger" in result.stderr


async def test_export_writes_the_replayed_ledger_as_csv_or_json(ledger_database):
    database_url, user_id = ledger_database
    as_csv = await asyncio.to_thread(
        relivchats, database_url, "export", "--user", str(user_id), "--format", "csv"
    )
    as_json = await asyncio.to_thread(
        relivchats, database_url, "export", "--user", str(user_id), "--format", "json"
    )

    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [(r["kind"], r["balance_after"]) for r in rows] == [
        ("welcome_bonus", "50"),
        ("purchase", "900"),
    ]
    assert [r["kind"] for r in json.loads(as_json.stdout)] == ["welcome_bonus", "purchase"]
