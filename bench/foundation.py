"""Foundation figures: projector rebuild events/s and the API's `/health` req/s.

Baselines measured in the same run: reading and decoding the same events without writing (rebuild),
and a bare FastAPI app returning a constant (`/health`), both under the same conditions.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid

import asyncpg

from bench.common import Row, serving, throwaway_database, wrk
from relivchats.adapters.eventstore import EventStore
from relivchats.domain.events import next_event_fields
from relivchats.domain.users import UserRegistered
from relivchats.projections import eventlog
from relivchats.projections.base import LOG_START
from relivchats.projections.read_ahead import REBUILD_BATCH
from relivchats.projections.rebuild import rebuild
from relivchats.projections.users import UsersProjection
from relivchats.settings import Settings

EVENTS = 100_000
SAVE_BATCH = 500
BARE_APP = "bench.bare_app:constant_app"


def seed_users(store: EventStore) -> None:
    for _ in range(EVENTS // SAVE_BATCH):
        store.append(
            *(UserRegistered(**next_event_fields(uuid.uuid4(), 0)) for _ in range(SAVE_BATCH))
        )


async def read_and_decode_seconds(dsn: str) -> float:
    """Baseline: what every rebuild must do anyway — read the events in the same batches and
    decode them with the library's mapper — but write nothing."""
    conn = await asyncpg.connect(dsn)
    started = time.perf_counter()
    after, head = LOG_START, await eventlog.head_position(conn)
    topics = UsersProjection.topics
    while rows := await eventlog.read_rows(conn, after, head, topics, REBUILD_BATCH):
        batch = [eventlog.decode(row) for row in rows]
        after = batch[-1].log_position
    await conn.close()
    return time.perf_counter() - started


def rebuild_rows(dsn: str) -> list[Row]:
    store = EventStore(Settings(database_url=dsn))
    seed_users(store)
    store.close()
    baseline = asyncio.run(read_and_decode_seconds(dsn))
    result = asyncio.run(rebuild(dsn, UsersProjection(), switch=True))
    return [
        {
            "what": "users projection rebuild",
            "conditions": f"{EVENTS:,} events, batches of 2,000, one connection",
            "figure": f"{result.events_per_second:,.0f} events/s",
            "baseline": f"read + decode, no writes: {EVENTS / baseline:,.0f} events/s",
            "ratio": f"{result.events_per_second / (EVENTS / baseline):.2f}",
        }
    ]


def health_rows(dsn: str) -> list[Row]:
    env = {**os.environ, "DATABASE_URL": dsn, "LOG_LEVEL": "WARNING"}
    with serving(BARE_APP, env) as base:
        bare = wrk(f"{base}/health", connections=32, seconds=10)
    with serving("relivchats.api.app:create_app", env, factory=True) as base:
        api = wrk(f"{base}/health", connections=32, seconds=10)
    return [
        {
            "what": "GET /health",
            "conditions": "wrk, 32 connections, 10 s, one uvicorn worker (uvloop, httptools)",
            "figure": f"{api.requests_per_second:,.0f} req/s, p99 {api.p99_ms:.1f} ms",
            "baseline": f"bare FastAPI constant: {bare.requests_per_second:,.0f} req/s",
            "ratio": f"{api.requests_per_second / bare.requests_per_second:.2f}",
        }
    ]


def main() -> list[Row]:
    with throwaway_database() as dsn:
        return rebuild_rows(dsn) + health_rows(dsn)


if __name__ == "__main__":
    for row in main():
        print(row)
