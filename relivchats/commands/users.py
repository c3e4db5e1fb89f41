"""Registering the caller as a user: idempotent, once per token subject, never after deletion."""

from __future__ import annotations

from dataclasses import dataclass

from relivchats.adapters.eventstore import EventStore
from relivchats.commands.retry import with_retries
from relivchats.domain import users
from relivchats.domain.events import fold


@dataclass(frozen=True)
class Registration:
    user: users.User
    created: bool
    position: int


def register_user(store: EventStore, subject: str) -> Registration:
    user_id = users.user_id_for(subject)

    def attempt() -> Registration:
        state = users.replay(store.load(user_id))
        new_events = users.register(state, user_id)
        if not new_events:
            assert state is not None
            return Registration(state, created=False, position=store.head())
        position = store.append(*new_events)
        user = fold(users.evolve, new_events, state)
        assert user is not None
        return Registration(user, created=True, position=position)

    return with_retries(attempt)
