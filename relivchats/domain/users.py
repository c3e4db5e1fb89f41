"""The User aggregate: registration and deletion of an account, keyed by the token subject.

Events hold no personal data: the id is uuid5 of the subject and nothing else about the person
is recorded, so the ledger stays a financial record after an account is erased.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from relivchats.domain.errors import UserDeleted
from relivchats.domain.events import Event, deterministic_id, fold, next_event_fields


def user_id_for(subject: str) -> UUID:
    return deterministic_id("user", subject)


@dataclass(frozen=True)
class UserRegistered(Event):
    TOPIC = "users.UserRegistered.v1"


@dataclass(frozen=True)
class UserDeletionRequested(Event):
    TOPIC = "users.UserDeletionRequested.v1"


@dataclass(frozen=True)
class User:
    id: UUID
    version: int
    registered_at: datetime
    deletion_requested_at: datetime | None = None

    @property
    def is_deleted(self) -> bool:
        return self.deletion_requested_at is not None


def evolve(state: User | None, event: Event) -> User:
    if isinstance(event, UserRegistered):
        return User(
            id=event.originator_id, version=event.originator_version, registered_at=event.timestamp
        )
    assert state is not None, f"{type(event).__name__} before UserRegistered"
    if isinstance(event, UserDeletionRequested):
        return User(
            id=state.id,
            version=event.originator_version,
            registered_at=state.registered_at,
            deletion_requested_at=event.timestamp,
        )
    return state


def replay(events: Iterable[Event]) -> User | None:
    return fold(evolve, events)


def register(state: User | None, user_id: UUID) -> list[Event]:
    """Registering is idempotent; a deleted account is never registered again."""
    if state is None:
        return [UserRegistered(**next_event_fields(user_id, 0))]
    if state.is_deleted:
        raise UserDeleted("this account has been deleted")
    return []
