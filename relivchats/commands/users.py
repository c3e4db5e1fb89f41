"""Registering the caller as a user: idempotent, one live account per token subject.

Registration opens the user's credit account in the same save. After a deletion the subject
registers again as a new, empty account (its next generation, domain/users.py). The welcome
bonus goes with the subject's first account only: that account's id is uuid5 of the subject and
its `AccountOpened` is version 1 of a stream keyed by it, so the event store's unique key grants
the bonus once per subject, ever; every later generation opens with 0 coins.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from relivchats.commands.unit_of_work import UnitOfWork
from relivchats.domain import credits_rules, users, users_rules
from relivchats.domain.credits import AccountOpened, CreditAccount
from relivchats.domain.users import FIRST_GENERATION


@dataclass(frozen=True)
class Registration:
    user: users.User
    account: CreditAccount
    changed: bool  # False: registered before
    welcome_bonus: int  # coins granted by this call: the bonus the first time, then 0
    position: int


def _live_or_next(uow: UnitOfWork, subject_key: UUID) -> tuple[users.User | None, int]:
    """The subject's live account, or the generation its next account will have."""
    generation = FIRST_GENERATION
    while True:
        user_id = users.user_id_for_key(subject_key, generation)
        user = uow.load(user_id, users.evolve)
        if user is None or not user.is_deleted:
            return user, generation
        generation += 1


def register_user(uow: UnitOfWork, subject: str) -> Registration:
    subject_key = users.subject_key_for(subject)
    user, generation = _live_or_next(uow, subject_key)
    user_id = users.user_id_for_key(subject_key, generation)
    bonus = credits_rules.WELCOME_BONUS if generation == FIRST_GENERATION else 0
    user_events = users_rules.register(user, subject_key, generation)
    account_events = credits_rules.open_account(uow.account(user_id), user_id, welcome_bonus=bonus)
    uow.record(*user_events, *account_events)
    saved = uow.save()
    user, account = uow.load(user_id, users.evolve), uow.account(user_id)
    assert user is not None
    assert account is not None
    granted = sum(e.welcome_bonus for e in account_events if isinstance(e, AccountOpened))
    return Registration(user, account, bool(user_events), granted, saved.position)
