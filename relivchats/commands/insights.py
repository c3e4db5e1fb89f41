"""Insight commands that open a job: unlock a category of a chat, retry a settled job.

Each loads what the decision needs (the chat, the unlock slot, the credit account), decides with
`insight_rules.open_job` and appends the slot, the job and the reservation in ONE save: two
racing unlocks of one (chat, category) meet at the slot's version, so one job and one
reservation exist whatever the concurrency; the loser reloads, finds the slot open and is told
which job holds it (409). With an `Idempotency-Key` the job id is derived from (user, key), so a
repeated request finds its job and answers it again instead of opening another.

Accounts are read through the process's account cache, always caught up with the log before
deciding (so a refusal for too few coins is the account's, not the cache's), and commands of one
process on one account take turns (`AccountCache.exclusive`), as the credit commands do.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar
from uuid import UUID

from relivchats.adapters.eventstore import EventStore
from relivchats.commands.account_cache import account_cache
from relivchats.commands.chats import load_chat
from relivchats.commands.credits import evolved
from relivchats.commands.retry import with_retries
from relivchats.domain import catalogue
from relivchats.domain.credits import CreditAccount, CreditEvent, account_id_for
from relivchats.domain.events import Event, now
from relivchats.domain.insight_rules import JobRequest, open_job, replayed_request, retryable
from relivchats.domain.insights import (
    InsightJob,
    JobNotFound,
    job_id_for,
    replay_job,
    retry_job_id_for,
)
from relivchats.domain.unlock_slots import (
    UnlockSlot,
    replay_slot,
    slot_id_for,
)

T = TypeVar("T")


@dataclass(frozen=True)
class OpenedJob:
    job: InsightJob
    available: int  # the user's coins left after the reservation
    created: bool  # False: the request repeated one already carried out
    position: int


def load_job(store: EventStore, job_id: UUID) -> InsightJob | None:
    return replay_job(store.load(job_id))


def load_slot(store: EventStore, chat_id: UUID, category: str) -> UnlockSlot:
    return replay_slot(chat_id, category, store.load(slot_id_for(chat_id, category)))


def current_account(store: EventStore, user_id: UUID) -> CreditAccount | None:
    """The user's account, caught up with every event in the log (through the cache)."""
    accounts = account_cache(store)
    account_id = account_id_for(user_id)
    return accounts.caught_up(account_id, accounts.current(account_id))


def remember_account(
    store: EventStore, account: CreditAccount | None, appended: Sequence[Event]
) -> CreditAccount | None:
    """The account after an append that may have moved its coins, kept for the next command."""
    moved = [event for event in appended if isinstance(event, CreditEvent)]
    if account is None or not moved:
        return account
    after = evolved(account, moved)
    account_cache(store).remember(after)
    return after


def one_at_a_time(store: EventStore, user_id: UUID, attempt: Callable[[], T]) -> T:
    """Run `attempt` with retries on version conflicts, taking turns on the user's account."""
    with account_cache(store).exclusive(account_id_for(user_id)):
        return with_retries(store, attempt)


def unlock(
    store: EventStore,
    user_id: UUID,
    chat_id: UUID,
    category_slug: str,
    idempotency_key: str | None,
    reservation_expiry: timedelta,
) -> OpenedJob:
    category = catalogue.category(category_slug)  # an unknown category is not found
    job_id = job_id_for(user_id, idempotency_key) if idempotency_key else uuid.uuid4()

    def attempt() -> OpenedJob:
        if idempotency_key is not None:
            earlier = replayed_request(load_job(store, job_id), user_id, chat_id, category.slug)
            if earlier is not None:
                return _answered_again(store, earlier)
        request = JobRequest(job_id, user_id, category, now() + reservation_expiry)
        return _open(store, request, chat_id)

    return one_at_a_time(store, user_id, attempt)


def retry(
    store: EventStore, user_id: UUID, job_id: UUID, reservation_expiry: timedelta
) -> OpenedJob:
    """A new job for the insights a settled job did not deliver, at their share of the cost.

    A job is retried at most once (the retry's id derives from it): asking again answers the
    retry job; if that one fails too, retry it in turn.
    """
    retry_id = retry_job_id_for(job_id)

    def attempt() -> OpenedJob:
        earlier = load_job(store, retry_id)
        if earlier is not None:
            if earlier.user_id != user_id:
                raise JobNotFound()
            return _answered_again(store, earlier)
        retried = retryable(load_job(store, job_id), user_id)
        category = catalogue.category(retried.category)
        request = JobRequest(retry_id, user_id, category, now() + reservation_expiry, retried)
        return _open(store, request, retried.chat_id)

    return one_at_a_time(store, user_id, attempt)


def _open(store: EventStore, request: JobRequest, chat_id: UUID) -> OpenedJob:
    chat = load_chat(store, chat_id)
    slot = load_slot(store, chat_id, request.category.slug)
    account = current_account(store, request.user_id)
    events = open_job(request, chat, slot, account)
    position = store.append(*events)
    job = replay_job(event for event in events if event.originator_id == request.job_id)
    after = remember_account(store, account, events)
    assert job is not None
    assert after is not None
    return OpenedJob(job, after.available, created=True, position=position)


def _answered_again(store: EventStore, job: InsightJob) -> OpenedJob:
    account = current_account(store, job.user_id)
    available = account.available if account is not None else 0
    return OpenedJob(job, available, created=False, position=store.head())
