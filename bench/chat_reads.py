"""P2: `GET /api/chats` (the caller's chats, newest first, one statement) against a bare endpoint.

The API runs as it ships (one uvicorn worker, JWT verified per request, middleware, envelope).
Baseline in the same run, on the same database, loaded identically (wrk, 32 connections): the
same query (`chat_queries.chats_of`) behind a bare FastAPI `async def` with an asyncpg pool.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import datetime, timedelta

from bench.api_reads import CONNECTIONS, ROUNDS, SECONDS, best_of_rounds, described, ratio
from bench.common import Row, serving, throwaway_database
from relivchats.adapters.eventstore import EventStore
from relivchats.adapters.identity import mint_local_token
from relivchats.commands.chats import record_upload
from relivchats.commands.unit_of_work import execute
from relivchats.domain.chats_rules import UploadSummary
from relivchats.domain.users import user_id_for
from relivchats.projections.chats import ChatsProjection
from relivchats.projections.rebuild import rebuild
from relivchats.settings import Settings

CHATS = 60  # more than a page: the page (50) is full
SUBJECT = "bench-chat-reader"


def seed(dsn: str) -> str:
    """CHATS chats of one user, projected; returns the user's token. Content is not read here."""
    settings = Settings(database_url=dsn)
    store = EventStore(settings)
    owner, start = user_id_for(SUBJECT), datetime(2024, 1, 1)
    try:
        for index in range(CHATS):
            summary = UploadSummary(
                ("Asha", "Ben"), 1000 + index, start, start + timedelta(days=index), uuid.uuid4()
            )
            execute(store, record_upload, uuid.uuid4(), owner, summary, None)
    finally:
        store.close()
    asyncio.run(rebuild(dsn, ChatsProjection()))
    assert settings.jwt_secret is not None
    return mint_local_token(
        settings.jwt_secret.get_secret_value(),
        SUBJECT,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
    )


def main() -> list[Row]:
    with throwaway_database() as dsn:
        token = seed(dsn)
        env = {**os.environ, "DATABASE_URL": dsn, "LOG_LEVEL": "WARNING"}
        with (
            serving("relivchats.api.app:create_app", env, factory=True) as api,
            serving("bench.read_baselines:asyncpg_app", env) as bare,
        ):
            got = best_of_rounds(
                {
                    "chats": (f"{api}/api/chats?limit=50", (f"Authorization: Bearer {token}",)),
                    "bare": (f"{bare}/chats/{user_id_for(SUBJECT)}", ()),
                }
            )
    return [
        {
            "what": "GET /api/chats?limit=50 (P2)",
            "conditions": f"wrk -t2 -c{CONNECTIONS}, best of {ROUNDS} interleaved {SECONDS} s"
            f" rounds, one uvicorn worker each; {CHATS} chats, one statement per page",
            "figure": described(got["chats"]),
            "baseline": f"bare FastAPI+asyncpg, same SQL: {described(got['bare'])}",
            "ratio": f"{ratio(got['chats'], got['bare']):.2f} x bare (bar >= 0.5)",
        }
    ]


if __name__ == "__main__":
    for row in main():
        print(row)
