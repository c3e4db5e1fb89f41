"""Deleting an account (product.md section 7): every read stops now, erasure follows later.

`delete_account` is the whole of `DELETE /api/users/delete-account`, in this order:
1. `UserDeletionRequested` is appended (with the erasure's due time and the subject, sealed):
   from its projection on, every token of the account is refused (api/dependencies.py);
2. each of the user's chats is deleted as a chat delete does (its reads stop, its content,
   vectors and insights are purged by the workers);
3. every open reservation is released ("cancelled") and its job ends expired in the same save,
   so results that still arrive are recorded free of charge (domain/insight_rules.py);
4. the user's RAG conversations are forgotten (`forget_conversations`);
5. the identity provider is told, by a retried task the dispatcher sends on the event.
Every step is idempotent, so a repeated request finishes what an interrupted one began.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from relivchats.adapters.eventstore import EventStore
from relivchats.commands.chats import delete_chat
from relivchats.commands.credits import evolved
from relivchats.commands.insights import (
    current_account,
    load_job,
    load_slot,
    one_at_a_time,
    remember_account,
)
from relivchats.commands.retry import with_retries
from relivchats.domain import credits_rules, insight_rules, users
from relivchats.domain.chats import ChatNotFound
from relivchats.domain.credits import CreditEvent, ReservationReleased
from relivchats.domain.events import Event, fold


@dataclass(frozen=True)
class AccountDeletion:
    user_id: UUID
    requested: bool  # this call deleted the account (False: it already was)
    deleted_at: datetime
    erasure_due_at: datetime
    chats_deleted: int
    reservations_released: int
    position: int


def delete_account(
    store: EventStore, user_id: UUID, subject: str, chat_ids: list[UUID], grace: timedelta
) -> AccountDeletion:
    user, requested, position = _request_deletion(store, user_id, subject, grace)
    chat_positions = [_delete_chat_if_live(store, chat_id, user_id) for chat_id in chat_ids]
    released, released_at = cancel_open_reservations(store, user_id)
    forget_conversations(store, user_id)
    assert user.deletion_requested_at is not None
    assert user.erasure_due_at is not None
    return AccountDeletion(
        user_id=user_id,
        requested=requested,
        deleted_at=user.deletion_requested_at,
        erasure_due_at=user.erasure_due_at,
        chats_deleted=sum(1 for at in chat_positions if at),
        reservations_released=released,
        position=max(position, released_at, *chat_positions),
    )


def _request_deletion(
    store: EventStore, user_id: UUID, subject: str, grace: timedelta
) -> tuple[users.User, bool, int]:
    def record_deletion() -> tuple[users.User, bool, int]:
        state = users.replay(store.load(user_id))
        events = users.request_deletion(state, subject, grace)
        if not events:
            assert state is not None
            return state, False, store.head()
        position = store.append(*events)
        after = fold(users.evolve, events, state)
        assert after is not None
        return after, True, position

    return with_retries(store, record_deletion)


def _delete_chat_if_live(store: EventStore, chat_id: UUID, owner_id: UUID) -> int:
    """The deletion's position; 0 if the chat was already deleted (or never the user's)."""
    try:
        change = delete_chat(store, chat_id, owner_id)
    except ChatNotFound:
        return 0
    return change.position if change.changed else 0


def cancel_open_reservations(store: EventStore, user_id: UUID) -> tuple[int, int]:
    """Release every open reservation ("cancelled") and end its job expired, in one save.

    Returns how many were released and the save's position (0 when nothing was open).
    """

    def release_and_expire() -> tuple[int, int]:
        before = account = current_account(store, user_id)
        if account is None or not account.open_reservations:
            return 0, 0
        events: list[Event] = []
        for reservation_id in sorted(account.open_reservations):
            released = credits_rules.release(account, reservation_id, "cancelled")
            account = evolved(account, released)
            events += [*released, *_expired_job(store, released[0])]
        position = store.append(*events)
        remember_account(store, before, events)
        assert before is not None
        return len(before.open_reservations), position

    return one_at_a_time(store, user_id, release_and_expire)


def _expired_job(store: EventStore, released: CreditEvent) -> list[Event]:
    assert isinstance(released, ReservationReleased)
    job = load_job(store, released.job_id)
    if job is None:
        return []
    return insight_rules.expire(job, load_slot(store, job.chat_id, job.category), released)


def forget_conversations(store: EventStore, user_id: UUID) -> None:
    """Step 4: the user's RAG conversations (Q&A history) are forgotten.

    Conversations are built on another branch (engineer `rag`, issue 10): at the merge, this
    step appends their forgetting for every conversation of `user_id`. On this branch no
    conversation can exist, so there is nothing to forget.
    """
    del store, user_id
