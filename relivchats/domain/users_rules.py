"""What each user command decides: registering, deleting and erasing an account.

Registering is idempotent; a deleted account is never registered again (the subject registers
its next generation instead). Deleting is immediate and asked once; erasure is recorded once the
grace period is over.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from relivchats.domain.errors import Conflict, NotFound, UserDeleted
from relivchats.domain.events import Event, next_event_fields
from relivchats.domain.users import (
    FIRST_GENERATION,
    User,
    UserDeletionRequested,
    UserErased,
    UserRegistered,
    user_id_for_key,
)


def register(
    state: User | None, subject_key: UUID, generation: int = FIRST_GENERATION
) -> list[Event]:
    """Registering is idempotent; a deleted account is never registered again (the subject
    gets its next generation instead: commands/users.py)."""
    if state is None:
        user_id = user_id_for_key(subject_key, generation)
        fields = next_event_fields(user_id, 0)
        return [UserRegistered(**fields, subject_key=subject_key, generation=generation)]
    if state.is_deleted:
        raise UserDeleted("this account has been deleted")
    return []


def request_deletion(state: User | None, subject: str, grace: timedelta) -> list[Event]:
    """Delete the account now; erasure becomes due after `grace`. Asking twice changes nothing."""
    if state is None:
        raise NotFound("no account yet: nothing to delete")
    if state.is_deleted:
        return []
    fields = next_event_fields(state.id, state.version)
    due = fields["timestamp"] + grace
    return [UserDeletionRequested(**fields, erasure_due_at=due, subject=subject)]


def erase(state: User | None, now: datetime, *, skip_grace: bool = False) -> list[Event]:
    """Record the erasure of a deleted account whose grace period is over (or skipped)."""
    if state is None or state.is_erased:
        return []
    if not state.is_deleted:
        raise Conflict("only a deleted account can be erased", user_id=str(state.id))
    assert state.erasure_due_at is not None
    if not skip_grace and now < state.erasure_due_at:
        raise Conflict("the grace period is not over", erasure_due_at=str(state.erasure_due_at))
    return [UserErased(**next_event_fields(state.id, state.version))]
