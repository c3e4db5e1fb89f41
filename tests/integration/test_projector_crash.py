"""A projector killed with SIGKILL mid-batch and restarted: read tables equal a rebuild.

The users projection inserts without ON CONFLICT, so an event applied twice would stop it with a
unique violation: "nothing applied twice" is checked by the projection itself, not assumed.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid

import asyncpg
import pytest

from relivchats.adapters.eventstore import EventStore
from relivchats.domain.events import next_event_fields
from relivchats.domain.users import UserRegistered, user_id_for
from relivchats.projections.rebuild import differences
from relivchats.projections.users import UsersProjection
from relivchats.settings import Settings
from tests.helpers import eventually

USERS = 3000
KILLS = 6


def start_projector(database_url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PROJECTOR_BATCH_SIZE": "25",
        "PROJECTOR_POLL_INTERVAL_S": "0.05",
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen([sys.executable, "-m", "relivchats", "projector"], env=env)


def register_users(store: EventStore, user_ids: list[uuid.UUID]) -> None:
    rng = random.Random(7)
    index = 0
    while index < len(user_ids):
        size = rng.randint(1, 5)
        chunk = user_ids[index : index + size]
        store.append(*(UserRegistered(**next_event_fields(uid, 0)) for uid in chunk))
        index += size
        time.sleep(0.001)


async def users_caught_up(database_url: str, head: int) -> bool:
    conn = await asyncpg.connect(database_url)
    try:
        position = await conn.fetchval(
            "SELECT position FROM projection_positions WHERE name = 'users'"
        )
        return position is not None and position >= head
    finally:
        await conn.close()


@pytest.mark.slow
async def test_projector_killed_mid_batch_resumes_without_loss_or_repeats(
    private_database_url: str, settings: Settings
):
    database_url = private_database_url
    store = EventStore(settings.model_copy(update={"database_url": database_url}))
    user_ids = [user_id_for(f"crash-{uuid.uuid4().hex}") for _ in range(USERS)]
    writer = threading.Thread(target=register_users, args=(store, user_ids))
    writer.start()
    projector = start_projector(database_url)
    try:
        rng = random.Random(11)
        for _ in range(KILLS):
            await asyncio.sleep(rng.uniform(0.3, 0.8))
            projector.send_signal(signal.SIGKILL)
            projector.wait()
            projector = start_projector(database_url)
        writer.join()
        head = store.head()
        await eventually(lambda: users_caught_up(database_url, head), within=60)
    finally:
        projector.terminate()
        projector.wait(timeout=10)
        store.close()

    conn = await asyncpg.connect(database_url)
    try:
        error = await conn.fetchval("SELECT error FROM projection_positions WHERE name = 'users'")
        rows = await conn.fetchval(
            "SELECT count(*) FROM users WHERE user_id = ANY($1::uuid[])", user_ids
        )
    finally:
        await conn.close()
    assert error is None, f"the projection stopped: {error}"
    assert rows == USERS
    assert await differences(database_url, UsersProjection()) == {"users": 0}
