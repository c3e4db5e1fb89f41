"""A user, a chat and coins on the in-memory event store: the setting of the command tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from relivchats.adapters.memory_eventstore import InMemoryEventStore
from relivchats.commands.chats import record_upload
from relivchats.commands.insights import OpenedJob, unlock
from relivchats.commands.unit_of_work import execute
from relivchats.commands.users import register_user
from relivchats.domain import credits
from relivchats.domain.chats_rules import UploadSummary
from tests.ledger_commands import purchase_coins

EXPIRY = timedelta(minutes=20)


def summary(*participants: str) -> UploadSummary:
    first = datetime(2024, 1, 1, tzinfo=UTC)
    return UploadSummary(participants or ("Asha", "Ben"), 10, first, first, uuid.uuid4())


@dataclass
class World:
    store: InMemoryEventStore
    user_id: uuid.UUID
    chat_id: uuid.UUID

    @classmethod
    def with_coins(cls, coins: int = 400, store: InMemoryEventStore | None = None) -> World:
        store = store or InMemoryEventStore()
        user_id = execute(store, register_user, f"user-{uuid.uuid4()}").user.id
        if coins:
            execute(store, purchase_coins, user_id, uuid.uuid4(), coins)
        chat_id = uuid.uuid4()
        execute(store, record_upload, chat_id, user_id, summary(), None)
        return cls(store, user_id, chat_id)

    def unlock(self, category: str = "friendship", key: str | None = None) -> OpenedJob:
        return execute(self.store, unlock, self.user_id, self.chat_id, category, key, EXPIRY)

    def available(self) -> int:
        account = credits.replay(self.store.load(credits.account_id_for(self.user_id)))
        return account.available if account else 0
