"""A ledger rebuild replays the accounts in two processes, each its share of the streams: the
shares split the log without overlap, each account whole, and the rebuilt tables equal the
live projection's (projections/rebuild.py, projections/forked.py)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from functools import partial

import asyncpg
import pytest

from relivchats.adapters.eventstore import EventStore
from relivchats.domain import credits_rules as rules
from relivchats.domain.credits import CreditEvent
from relivchats.projections import eventlog
from relivchats.projections.base import LOG_START
from relivchats.projections.eventlog import Share
from relivchats.projections.ledger import LedgerProjection
from relivchats.projections.projector import ProjectionRunner, connect
from relivchats.projections.rebuild import differences
from relivchats.settings import Settings
from tests.helpers import eventually
from tests.ledger_commands import decided

ACCOUNTS = 30


def history(reservations: int) -> list[CreditEvent]:
    """An account opened, coins bought, reservations captured and released in turn."""
    rid = [uuid.uuid4() for _ in range(reservations)]
    expires_at = datetime.now(UTC) + timedelta(hours=1)
    commands = [
        partial(rules.open_account, user_id=uuid.uuid4()),
        partial(rules.purchase, order_id=uuid.uuid4(), coins=1_000),
    ]
    for n, reservation_id in enumerate(rid):
        resolve = rules.capture if n % 2 else partial(rules.release, reason="failed")
        commands += [
            partial(
                rules.reserve,
                reservation_id=reservation_id,
                amount=10,
                expires_at=expires_at,
                job_id=reservation_id,
            ),
            partial(resolve, reservation_id=reservation_id),
        ]
    return decided(commands)[0]


@pytest.fixture
def seeded_ledger(private_database_url: str) -> str:
    store = EventStore(Settings(database_url=private_database_url))
    try:
        seeded = 0
        for account in range(ACCOUNTS):
            events = history(reservations=account % 5)
            store.append(*events)
            seeded += len(events)
    finally:
        store.close()
    asyncio.run(settled(private_database_url, seeded))
    return private_database_url


async def settled(database_url: str, events: int) -> None:
    """Wait until the horizon passes the seeded events (another session's open transaction,
    anywhere in the cluster, may hold it back)."""

    async def all_readable() -> bool:
        return len(await streams_read(database_url, None)) == events

    await eventually(all_readable, within=30)


async def project_live(database_url: str) -> None:
    conn = await connect(database_url)
    try:
        runner = ProjectionRunner(database_url, LedgerProjection())
        await eventlog.ensure_checkpoint(conn, LedgerProjection.name)
        while await runner.step(conn):
            pass
    finally:
        await conn.close()


async def streams_read(database_url: str, share: Share | None) -> list[tuple[uuid.UUID, int]]:
    conn = await asyncpg.connect(database_url)
    try:
        upto = await eventlog.head_position(conn)
        rows = await eventlog.read_rows(
            conn, LOG_START, upto, LedgerProjection.topics, 10_000, share
        )
        return [(row["originator_id"], row["originator_version"]) for row in rows]
    finally:
        await conn.close()


def test_the_shares_split_the_log_without_overlap_and_keep_each_account_whole(seeded_ledger):
    everything = asyncio.run(streams_read(seeded_ledger, None))
    first, second = (asyncio.run(streams_read(seeded_ledger, Share(n, 2))) for n in (0, 1))
    assert first and second
    assert sorted(first + second) == sorted(everything)
    assert not {account for account, _ in first} & {account for account, _ in second}


def test_a_rebuild_in_two_processes_equals_the_live_ledger(seeded_ledger):
    asyncio.run(project_live(seeded_ledger))
    found = asyncio.run(differences(seeded_ledger, LedgerProjection()))
    assert found == dict.fromkeys(LedgerProjection.tables, 0)
