"""Beat's erasure against PostgreSQL: a deleted account whose grace period is over is erased,
its data key destroyed for good, and its chats' personal fields unreadable by anyone after."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import psycopg
import pytest

from relivchats.adapters.crypto import master_key_from
from relivchats.adapters.data_keys import DataKeyDestroyed, DataKeys
from relivchats.adapters.eventstore import EventStore, build_mapper
from relivchats.commands.account_deletion import delete_account
from relivchats.commands.chats import record_upload
from relivchats.commands.unit_of_work import execute
from relivchats.commands.users import register_user
from relivchats.domain.chats_rules import UploadSummary
from relivchats.domain.personal import ERASED
from relivchats.domain.users import UserErased
from relivchats.projections.chats import ChatsProjection
from relivchats.projections.rebuild import rebuild
from relivchats.projections.users import UsersProjection
from relivchats.settings import Settings
from relivchats.workers.erasure import erase_due
from tests.helpers import eventually

NAMES = ("Ulfrida Pemberton", "Xochitl Arrowsmith")


async def projected(database_url: str, user_ids: list[uuid.UUID]) -> None:
    """Rebuild the users and chats read models until they hold these users' deletions: a
    rebuild stops at the cluster's horizon, which another session's open transaction holds."""

    async def deletions_projected() -> bool:
        for projection in (UsersProjection(), ChatsProjection()):
            await rebuild(database_url, projection)
        with psycopg.connect(database_url) as conn:
            row = conn.execute(
                "SELECT count(*) FROM users WHERE user_id = ANY(%s)"
                " AND deletion_requested_at IS NOT NULL",
                (user_ids,),
            ).fetchone()
        return row is not None and row[0] == len(user_ids)

    await eventually(deletions_projected, within=30)


def a_chat(store: EventStore, owner: uuid.UUID) -> uuid.UUID:
    chat_id = uuid.uuid4()
    summary = UploadSummary(
        participants=NAMES,
        message_count=2,
        first_message_at=datetime(2024, 1, 1, 9, 0),
        last_message_at=datetime(2024, 1, 1, 9, 5),
        content_id=uuid.uuid4(),
    )
    execute(store, record_upload, chat_id, owner, summary, None)
    return chat_id


async def test_beat_erases_accounts_whose_grace_period_is_over_and_only_those(
    private_database_url: str,
):
    settings = Settings(database_url=private_database_url)
    store = EventStore(settings)
    try:
        due, waiting = (execute(store, register_user, f"e-{uuid.uuid4()}").user.id for _ in "ab")
        chats = {user: a_chat(store, user) for user in (due, waiting)}
        delete_account(store, due, "due", [chats[due]], timedelta(0))
        delete_account(store, waiting, "waiting", [chats[waiting]], timedelta(days=30))
        await projected(private_database_url, [due, waiting])

        ran = erase_due(store, private_database_url, batch=10)

        assert ran == {"due": 1, "erased": 1, "failed": 0}
        assert isinstance(store.load(due)[-1], UserErased)
        assert not isinstance(store.load(waiting)[-1], UserErased)
    finally:
        store.close()

    # A process that never saw the key (no cache) reads the erased user's chat as erased.
    fresh = DataKeys(private_database_url, master_key_from(settings))
    mapper = build_mapper(fresh)
    with psycopg.connect(private_database_url) as conn:
        rows = conn.execute(
            "SELECT originator_id, originator_version, topic, state FROM relivchats_events"
            " WHERE originator_id = ANY(%s) AND originator_version = 1",
            ([chats[due], chats[waiting]],),
        ).fetchall()
        tombstone = conn.execute(
            "SELECT wrapped_key, destroyed_at FROM user_data_keys WHERE user_id = %s", (due,)
        ).fetchone()
    opened = {
        event.originator_id: event
        for event in (mapper.to_domain_event(_stored(*row)) for row in rows)
    }
    assert (opened[chats[due]].title, opened[chats[due]].participants) == (ERASED, ())
    assert opened[chats[waiting]].participants == NAMES
    assert tombstone is not None and tombstone[0] is None and tombstone[1] is not None
    with pytest.raises(DataKeyDestroyed):
        fresh.for_writing(due)  # never a new key for an erased user
    fresh.close()


def _stored(originator_id: uuid.UUID, version: int, topic: str, state: bytes):
    from eventsourcing.persistence import StoredEvent

    return StoredEvent(
        originator_id=originator_id, originator_version=version, topic=topic, state=state
    )
