"""Registering the caller as a user: idempotent, once per token subject, never after deletion.

Registration opens the user's credit account with the welcome bonus in the same save, so the
bonus exists exactly when the user does: once per user id, ever.
"""

from __future__ import annotations

from dataclasses import dataclass

from relivchats.commands.unit_of_work import UnitOfWork
from relivchats.domain import credits_rules, users
from relivchats.domain.credits import AccountOpened, CreditAccount


@dataclass(frozen=True)
class Registration:
    user: users.User
    account: CreditAccount
    changed: bool  # False: registered before
    welcome_bonus: int  # coins granted by this call: the bonus the first time, then 0
    position: int


def register_user(uow: UnitOfWork, subject: str) -> Registration:
    user_id = users.user_id_for(subject)
    user_events = users.register(uow.load(user_id, users.evolve), user_id)
    account_events = credits_rules.open_account(uow.account(user_id), user_id)
    uow.record(*user_events, *account_events)
    saved = uow.save()
    user, account = uow.load(user_id, users.evolve), uow.account(user_id)
    assert user is not None
    assert account is not None
    bonus = sum(e.welcome_bonus for e in account_events if isinstance(e, AccountOpened))
    return Registration(user, account, bool(user_events), bonus, saved.position)
