"""Deleting an account (product.md section 7): every read stops now, erasure follows later.

`delete_account` is the whole of `DELETE /api/users/delete-account`: a short process of
commands, each its own unit of work, in this order:
1. `request_deletion` saves `UserDeletionRequested` (with the erasure's due time and the subject,
   sealed): from its projection on, every token of the account is refused (api/dependencies.py);
2. `cancel_open_reservations` releases every open reservation ("cancelled") and ends its job
   expired in the same save, so results that still arrive are recorded free of charge
   (domain/insights_rules.py);
3. each of the user's chats is deleted as a chat delete does (its reads stop; its content,
   vectors and insights are purged by the workers);
4. the user's RAG conversations are forgotten: `ConversationForgotten` on each (a user asks only
   about their own chats, so those are the chats' conversations; their text goes with the chats);
5. the identity provider is told, by a retried task the dispatcher sends on the event.
Every step is idempotent, so a repeated request finishes what an interrupted one began.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from relivchats.adapters.event_log import EventLog
from relivchats.commands.chats import delete_chat
from relivchats.commands.conversations import forget_turns
from relivchats.commands.insight_outcomes import expired_jobs
from relivchats.commands.unit_of_work import UnitOfWork, execute
from relivchats.domain import credits_rules, users, users_rules
from relivchats.domain.chats import ChatNotFound
from relivchats.domain.events import Event


@dataclass(frozen=True)
class AccountDeletion:
    user_id: UUID
    requested: bool  # this call deleted the account (False: it already was)
    deleted_at: datetime
    erasure_due_at: datetime
    chats_deleted: int
    reservations_released: int
    position: int


@dataclass(frozen=True)
class DeletionRequested:
    user: users.User
    changed: bool
    position: int


def delete_account(
    store: EventLog, user_id: UUID, subject: str, chat_ids: list[UUID], grace: timedelta
) -> AccountDeletion:
    requested = execute(store, request_deletion, user_id, subject, grace)
    # Jobs end before their chats go, so no worker settles one on a vanished chat meanwhile.
    released, released_at = execute(store, cancel_open_reservations, user_id)
    chat_positions = [_delete_chat_if_live(store, chat_id, user_id) for chat_id in chat_ids]
    forgotten = [_forget_conversation(store, chat_id, user_id) for chat_id in chat_ids]
    user = requested.user
    assert user.deletion_requested_at is not None
    assert user.erasure_due_at is not None
    return AccountDeletion(
        user_id=user_id,
        requested=requested.changed,
        deleted_at=user.deletion_requested_at,
        erasure_due_at=user.erasure_due_at,
        chats_deleted=sum(1 for at in chat_positions if at),
        reservations_released=released,
        position=max(requested.position, released_at, *chat_positions, *forgotten),
    )


def request_deletion(
    uow: UnitOfWork, user_id: UUID, subject: str, grace: timedelta
) -> DeletionRequested:
    uow.record(*users_rules.request_deletion(uow.load(user_id, users.evolve), subject, grace))
    saved = uow.save()
    user = uow.load(user_id, users.evolve)
    assert user is not None
    return DeletionRequested(user, saved.changed, saved.position)


def _delete_chat_if_live(store: EventLog, chat_id: UUID, owner_id: UUID) -> int:
    """The deletion's position; 0 if the chat was already deleted (or never the user's)."""
    try:
        change = execute(store, delete_chat, chat_id, owner_id)
    except ChatNotFound:
        return 0
    return change.position if change.changed else 0


def cancel_open_reservations(uow: UnitOfWork, user_id: UUID) -> tuple[int, int]:
    """Release every open reservation ("cancelled") and end its job expired, in one save.

    Returns how many were released and the save's position (0 when nothing was open).
    """
    account = uow.account(user_id)
    open_ids = sorted(account.open_reservations) if account else []
    releases: list[Event] = []
    for reservation_id in open_ids:
        released = credits_rules.release(uow.account(user_id), reservation_id, "cancelled")
        uow.record(*released)
        releases += released
    uow.record(*expired_jobs(uow, releases))
    saved = uow.save()
    return len(open_ids), saved.position if saved.changed else 0


def _forget_conversation(store: EventLog, chat_id: UUID, user_id: UUID) -> int:
    """The forgetting's position; 0 when the user never asked about the chat."""
    forgotten = execute(store, forget_turns, chat_id, user_id)
    return forgotten.position if forgotten.turns else 0
