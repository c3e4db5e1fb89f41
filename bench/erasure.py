"""The cost of crypto-shredding on rebuilds: the users and chats projections replaying events
whose personal fields are sealed with per-user data keys, against the same events stored in
clear (as before migration 009), in the same run.

Two throwaway databases get the same history: `USERS` users, each with `CHATS_PER_USER` chats
(`ChatUploaded` + `DisplayNameSet`) and a deletion request. In one, personal fields are stored
in clear (the sealing switched off, as events written before 009 are); in the other, sealed.
Each projection is rebuilt `ROUNDS` times per database, alternating, best of each. The sealed
rebuild pays one key lookup per user (then cached) and one AES-GCM open per personal field.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from unittest import mock

from bench.common import Row, throwaway_database
from relivchats.adapters import eventstore
from relivchats.adapters.eventstore import EventStore
from relivchats.domain import chats, chats_rules, users, users_rules
from relivchats.domain.events import Event
from relivchats.projections import eventlog
from relivchats.projections.chats import ChatsProjection
from relivchats.projections.rebuild import rebuild
from relivchats.projections.users import UsersProjection
from relivchats.settings import Settings

USERS = int(os.environ.get("BENCH_ERASURE_USERS", "1000"))
CHATS_PER_USER = 5
ROUNDS = 5
EVENTS_PER_SAVE = 500


def history_of(subject: str) -> list[Event]:
    user_id = users.user_id_for(subject)
    events = users_rules.register(None, users.subject_key_for(subject), users.FIRST_GENERATION)
    for n in range(CHATS_PER_USER):
        participants = (f"Participant {subject} {n}", f"Friend {n} of {subject}")
        summary = chats_rules.UploadSummary(
            participants=participants,
            message_count=500,
            first_message_at=datetime(2024, 1, 1, 9, 0),
            last_message_at=datetime(2024, 6, 1, 21, 0),
            content_id=uuid.uuid4(),
        )
        uploaded = chats_rules.upload(None, uuid.uuid4(), user_id, summary, None)
        chat = chats.replay(uploaded)
        events += uploaded
        events += chats_rules.set_display_name(
            chat, user_id, me_participant=participants[0], title=f"Chat {n} of {subject}"
        )
    user = users.replay(events[:1])
    return events + users_rules.request_deletion(user, subject, timedelta(days=30))


def seed(dsn: str) -> int:
    store = EventStore(Settings(database_url=dsn))
    try:
        pending: list[Event] = []
        written = 0
        for n in range(USERS):
            pending += history_of(f"bench-erasure-{n}")
            if len(pending) >= EVENTS_PER_SAVE:
                written += len(pending)
                store.append(*pending)
                pending = []
        if pending:
            written += len(pending)
            store.append(*pending)
        return written
    finally:
        store.close()


@contextmanager
def stored_in_clear() -> Iterator[None]:
    """Write as before migration 009: no event class declares personal fields."""
    with mock.patch.object(eventstore, "personal_fields_of", return_value=None):
        yield


def best_rates(dsns: dict[str, str]) -> dict[tuple[str, str], float]:
    best: dict[tuple[str, str], float] = {}
    for _ in range(ROUNDS):
        for form, dsn in dsns.items():
            for projection in (UsersProjection(), ChatsProjection()):
                # A rebuild in a fresh process: no data key cached yet (one lookup per user).
                eventlog._mappers_with_keys.pop(dsn, None)
                result = asyncio.run(rebuild(dsn, projection, switch=True))
                key = (projection.name, form)
                best[key] = max(best.get(key, 0.0), result.events_per_second)
    return best


def main() -> list[Row]:
    with throwaway_database() as clear, throwaway_database() as sealed:
        with stored_in_clear():
            events = seed(clear)
        seed(sealed)
        best = best_rates({"clear": clear, "sealed": sealed})
    conditions = (
        f"a history of {events:,} events ({USERS:,} users, {CHATS_PER_USER} chats each: upload"
        f" + display name, and a deletion); each projection replays its own topics,"
        f" blue-green, keys not cached at start, best of {ROUNDS}, same run"
    )
    return [
        {
            "what": f"{name} projection rebuild with sealed personal fields (issue 15)",
            "conditions": conditions,
            "figure": f"{best[(name, 'sealed')]:,.0f} events/s",
            "baseline": f"same events in clear: {best[(name, 'clear')]:,.0f} events/s",
            "ratio": f"{best[(name, 'sealed')] / best[(name, 'clear')]:.2f}",
        }
        for name in ("users", "chats")
    ]


if __name__ == "__main__":
    for row in main():
        print(row)
