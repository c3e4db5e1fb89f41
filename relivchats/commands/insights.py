"""Insight commands that open a job: unlock a category of a chat, retry a settled job.

Each loads what the decision needs (the chat, the unlock slot, the credit account), decides with
`insights_rules.open_job` and saves the slot, the job and the reservation together: two racing
unlocks of one (chat, category) meet at the slot's version, so one job and one reservation exist
whatever the concurrency; the loser decides again, finds the slot open and is told which job
holds it (409). With an `Idempotency-Key` the job id is derived from (user, key), so a repeated
request finds its job and answers it again instead of opening another.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from relivchats.commands.unit_of_work import UnitOfWork
from relivchats.domain import catalogue, chats, insights, unlock_slots
from relivchats.domain.events import now
from relivchats.domain.insights import InsightJob, JobNotFound, job_id_for, retry_job_id_for
from relivchats.domain.insights_rules import JobRequest, open_job, replayed_request, retryable
from relivchats.domain.unlock_slots import UnlockSlot, slot_id_for


@dataclass(frozen=True)
class OpenedJob:
    job: InsightJob
    available: int  # the user's coins left after the reservation
    changed: bool  # False: the request repeated one already carried out
    position: int


def unlock(
    uow: UnitOfWork,
    user_id: UUID,
    chat_id: UUID,
    category_slug: str,
    idempotency_key: str | None,
    reservation_expiry: timedelta,
) -> OpenedJob:
    category = catalogue.category(category_slug)  # an unknown category is not found
    if idempotency_key is None:
        request = JobRequest(uuid.uuid4(), user_id, category, now() + reservation_expiry)
        return _open(uow, request, chat_id)
    job_id = job_id_for(user_id, idempotency_key)
    earlier = replayed_request(uow.load(job_id, insights.evolve), user_id, chat_id, category.slug)
    if earlier is not None:
        return _answered_again(uow, earlier)
    return _open(uow, JobRequest(job_id, user_id, category, now() + reservation_expiry), chat_id)


def retry(uow: UnitOfWork, user_id: UUID, job_id: UUID, reservation_expiry: timedelta) -> OpenedJob:
    """A new job for the insights a settled job did not deliver, at their share of the cost.

    A job is retried at most once (the retry's id derives from it): asking again answers the
    retry job; if that one fails too, retry it in turn.
    """
    retry_id = retry_job_id_for(job_id)
    earlier = uow.load(retry_id, insights.evolve)
    if earlier is not None:
        if earlier.user_id != user_id:
            raise JobNotFound()
        return _answered_again(uow, earlier)
    retried = retryable(uow.load(job_id, insights.evolve), user_id)
    category = catalogue.category(retried.category)
    request = JobRequest(retry_id, user_id, category, now() + reservation_expiry, retried)
    return _open(uow, request, retried.chat_id)


def load_slot(uow: UnitOfWork, chat_id: UUID, category: str) -> UnlockSlot:
    slot = uow.load(slot_id_for(chat_id, category), unlock_slots.evolve)
    return slot or unlock_slots.empty_slot(chat_id, category)


def _open(uow: UnitOfWork, request: JobRequest, chat_id: UUID) -> OpenedJob:
    chat = uow.load(chat_id, chats.evolve)
    slot = load_slot(uow, chat_id, request.category.slug)
    uow.record(*open_job(request, chat, slot, uow.account(request.user_id)))
    saved = uow.save()
    job, account = uow.load(request.job_id, insights.evolve), uow.account(request.user_id)
    assert job is not None
    assert account is not None
    return OpenedJob(job, account.available, changed=True, position=saved.position)


def _answered_again(uow: UnitOfWork, job: InsightJob) -> OpenedJob:
    account = uow.account(job.user_id)
    available = account.available if account is not None else 0
    return OpenedJob(job, available, changed=False, position=uow.save().position)
