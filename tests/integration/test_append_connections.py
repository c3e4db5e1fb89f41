"""The event store's pooled connections: no ping before a save, yet a dead connection is never lent.

The library pinged every connection before lending it (a second round trip per save). Now a
connection is pinged only when its socket has something to say while idle, which is how a server
ends one. Shown with real PostgreSQL backends terminated under the pool, as an administrator, a
failover or an idle timeout would.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from prometheus_client import REGISTRY

from relivchats.adapters.eventstore import EventStore
from relivchats.adapters.recorder import check_idle_connection
from relivchats.domain.events import next_event_fields
from relivchats.domain.users import UserRegistered
from relivchats.settings import Settings

POOL = 3


def append_retries() -> float:
    sample = REGISTRY.get_sample_value("relivchats_storage_retries_total", {"operation": "append"})
    return sample or 0.0


def registration() -> UserRegistered:
    return UserRegistered(**next_event_fields(uuid.uuid4(), 0))


@pytest.fixture
def own_store(private_database_url: str) -> Iterator[EventStore]:
    store = EventStore(
        Settings(database_url=private_database_url, eventstore_pool_size=POOL, log_level="WARNING")
    )
    yield store
    store.close()


def terminate_other_backends(database_url: str) -> int:
    """Terminate every other client of the database; return once they all have exited."""
    with psycopg.connect(database_url, autocommit=True) as admin:
        others = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        pids = [pid for (pid,) in others.fetchall()]
        admin.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", (pids,))
        deadline = time.monotonic() + 10
        alive = "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)"
        while admin.execute(alive, (pids,)).fetchone() != (0,):
            assert time.monotonic() < deadline, "terminated backends did not exit"
            time.sleep(0.01)
    return len(pids)


def test_saves_after_the_server_ended_every_pooled_connection_need_no_retry(
    own_store: EventStore, private_database_url: str
) -> None:
    own_store.append(registration())
    own_store._app.factory.datastore.pool.wait(timeout=10)  # all POOL connections are open
    assert terminate_other_backends(private_database_url) >= POOL
    retries_before = append_retries()

    positions = [own_store.append(registration()) for _ in range(POOL * 2)]

    assert len(set(positions)) == POOL * 2
    assert append_retries() == retries_before  # each dead connection was found before the save


def last_statement(database_url: str, pid: int) -> str:
    with psycopg.connect(database_url, autocommit=True) as observer:
        row = observer.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", (pid,))
        found = row.fetchone()
    assert found is not None
    return str(found[0])


def test_a_healthy_idle_connection_is_lent_without_a_round_trip(private_database_url: str) -> None:
    with psycopg.connect(private_database_url, autocommit=True) as conn:
        conn.execute("SELECT 1 AS last_thing_sent")
        check_idle_connection(conn)
        assert last_statement(private_database_url, conn.info.backend_pid) == (
            "SELECT 1 AS last_thing_sent"
        )


def test_a_connection_the_server_ended_fails_the_check(private_database_url: str) -> None:
    with psycopg.connect(private_database_url, autocommit=True) as conn:
        conn.execute("SELECT 1")
        terminate_other_backends(private_database_url)
        with pytest.raises(psycopg.OperationalError):
            check_idle_connection(conn)
