"""Shared fixtures: a throw-away PostgreSQL database per test session, the app, the projector.

Integration and e2e tests run against a real PostgreSQL and Redis: those `tests/services.py`
names (`make test` provides them: local, started, or embedded). Each session creates its own
database and drops it at the end. Tests isolate themselves by using fresh ids (new subjects, new
orders), never by truncating tables.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from relivchats.adapters.eventstore import EventStore
from relivchats.adapters.identity import mint_local_token
from relivchats.schema import temporary_database
from relivchats.settings import Settings
from tests.helpers import stopped
from tests.services import POSTGRES_URL, REDIS_URL

TEST_SECRET = "test-secret-that-is-long-enough-for-hs256"

# Properties are checked, never timed: a per-example deadline (or the slow-generation check) is a
# wall-clock assertion, and on a shared, loaded machine it fails examples that are right (speed
# lives in bench/).
hypothesis_settings.register_profile(
    "relivchats", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("relivchats")


def throwaway_database() -> contextlib.AbstractContextManager[str]:
    return temporary_database(POSTGRES_URL, f"relivchats_test_{os.getpid()}")


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    with throwaway_database() as url:
        yield url


@pytest.fixture
def private_database_url() -> Iterator[str]:
    """A database no session-wide projector touches: for tests that run their own processes."""
    with throwaway_database() as url:
        yield url


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(
        environment="test",
        database_url=database_url,
        redis_url=REDIS_URL,
        jwt_secret=TEST_SECRET,
        jwt_jwks_url=None,
        log_level="WARNING",
        data_dir=os.path.join(tempfile.gettempdir(), f"relivchats-test-{os.getpid()}"),
    )


@pytest.fixture(scope="session")
def store(settings: Settings) -> Iterator[EventStore]:
    event_store = EventStore(settings)
    yield event_store
    event_store.close()


@pytest.fixture(scope="session")
def token_for(settings: Settings) -> Callable[..., str]:
    def mint(subject: str, **options: Any) -> str:
        return mint_local_token(
            TEST_SECRET,
            subject,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            **options,
        )

    return mint


@pytest.fixture
def subject() -> str:
    """A fresh identity-provider subject, so every test owns its own user."""
    return f"user-{uuid.uuid4().hex}"


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[Any]:
    from relivchats.api.app import create_app

    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="session")
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


@pytest.fixture(scope="session")
async def projector(settings: Settings) -> AsyncIterator[Any]:
    """Every registered projection, running in the test session's event loop."""
    from relivchats.projections.projector import Projector
    from relivchats.projections.registry import all_projections

    running = Projector(settings.database_url, all_projections(), poll_interval=0.05)
    task = asyncio.create_task(running.run())
    yield running
    await stopped(task)


@pytest.fixture
def count_queries(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every statement the API's read pool runs while the test lasts (for N+1 checks)."""
    from relivchats.adapters.database import ReadPool

    seen: list[str] = []
    acquire, release = ReadPool._acquire, ReadPool._release

    def log(logged: Any) -> None:
        seen.append(logged.query)

    async def counting_acquire(self: ReadPool, acquire_timeout: float) -> Any:
        conn = await acquire(self, acquire_timeout)
        conn.add_query_logger(log)
        return conn

    async def counting_release(self: ReadPool, conn: Any) -> None:
        conn.remove_query_logger(log)
        await release(self, conn)

    monkeypatch.setattr(ReadPool, "_acquire", counting_acquire)
    monkeypatch.setattr(ReadPool, "_release", counting_release)
    return seen
