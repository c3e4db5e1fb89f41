"""The User aggregate: an account's life from registration through deletion to erasure.

Keyed by the token subject: the subject's first account is uuid5(subject), each later one (after
a deletion) uuid5(subject, generation). Events hold no personal data: ids, generation and times
only, so the ledger stays a financial record after an account is erased. Deletion is immediate
for every read and every token issued before it; erasure (the data key destroyed, the content
gone) follows after the grace period. The welcome bonus belongs to the subject's first account
only, so it is granted once per subject, ever (commands/users.py). What each command decides
lives in `users_rules.py`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import ClassVar
from uuid import UUID

from relivchats.domain.errors import UserDeleted
from relivchats.domain.events import Event, deterministic_id, fold
from relivchats.domain.personal import PersonalFields

FIRST_GENERATION = 1


def user_id_for(subject: str, generation: int = FIRST_GENERATION) -> UUID:
    return user_id_for_key(subject_key_for(subject), generation)


def subject_key_for(subject: str) -> UUID:
    """A subject's pseudonymous key: the id of its first account (never the subject itself)."""
    return deterministic_id("user", subject)


def user_id_for_key(subject_key: UUID, generation: int) -> UUID:
    if generation == FIRST_GENERATION:
        return subject_key
    return deterministic_id("user", "generation", subject_key, generation)


@dataclass(frozen=True)
class UserRegistered(Event):
    TOPIC = "users.UserRegistered.v1"
    # None / 1 on events before generations existed: the subject's first account.
    subject_key: UUID | None = field(default=None, kw_only=True)
    generation: int = field(default=FIRST_GENERATION, kw_only=True)


@dataclass(frozen=True)
class UserDeletionRequested(Event):
    """The account is deleted; its erasure is due at `erasure_due_at`. `subject` (sealed with
    the user's data key) is what the identity provider is told to forget."""

    TOPIC = "users.UserDeletionRequested.v1"
    PERSONAL: ClassVar[PersonalFields] = PersonalFields(
        owner="originator_id", erased={"subject": None}
    )
    erasure_due_at: datetime | None = field(default=None, kw_only=True)
    subject: str | None = field(default=None, kw_only=True)


@dataclass(frozen=True)
class UserErased(Event):
    """The account's data key is destroyed and its content gone: nothing personal remains."""

    TOPIC = "users.UserErased.v1"


@dataclass(frozen=True)
class User:
    id: UUID
    version: int
    registered_at: datetime
    subject_key: UUID
    generation: int = FIRST_GENERATION
    deletion_requested_at: datetime | None = None
    erasure_due_at: datetime | None = None
    erased_at: datetime | None = None

    @property
    def is_deleted(self) -> bool:
        return self.deletion_requested_at is not None

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None


def evolve(state: User | None, event: Event) -> User:
    if isinstance(event, UserRegistered):
        return User(
            id=event.originator_id,
            version=event.originator_version,
            registered_at=event.timestamp,
            subject_key=event.subject_key or event.originator_id,
            generation=event.generation,
        )
    assert state is not None, f"{type(event).__name__} before UserRegistered"
    state = replace(state, version=event.originator_version)
    if isinstance(event, UserDeletionRequested):
        due = event.erasure_due_at or event.timestamp
        return replace(state, deletion_requested_at=event.timestamp, erasure_due_at=due)
    if isinstance(event, UserErased):
        return replace(state, erased_at=event.timestamp)
    return state


def replay(events: Iterable[Event]) -> User | None:
    return fold(evolve, events)


@dataclass(frozen=True)
class LatestAccount:
    """The read model's newest account of a subject, and its newest deletion."""

    generation: int
    deleted: bool
    last_deletion_at: datetime | None


def account_for_token(
    subject_key: UUID, latest: LatestAccount | None, issued_at: datetime | None
) -> UUID:
    """Which account a verified token acts for, or UserDeleted if it belongs to a deleted one.

    A token issued before (or in the same second as) any deletion of the subject's accounts is
    that deleted account's token and is refused; a token issued later acts for the subject's
    live account, or for the next one that `POST /api/users/store` will register.
    """
    if latest is None:
        return user_id_for_key(subject_key, FIRST_GENERATION)
    deleted_at = latest.last_deletion_at
    if deleted_at is not None and (issued_at is None or issued_at <= deleted_at):
        raise UserDeleted("this account has been deleted")
    return user_id_for_key(subject_key, latest.generation + (1 if latest.deleted else 0))
