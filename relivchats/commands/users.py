"""Registering the caller as a user: idempotent, once per token subject, never after deletion.

Registration opens the user's credit account with the welcome bonus in the same append, so the
bonus exists exactly when the user does: once per user id, ever.
"""

from __future__ import annotations

from dataclasses import dataclass

from relivchats.adapters.eventstore import EventStore
from relivchats.commands.credits import evolved, load_account
from relivchats.commands.retry import with_retries
from relivchats.domain import credits_rules, users
from relivchats.domain.credits import AccountOpened, CreditAccount
from relivchats.domain.events import fold


@dataclass(frozen=True)
class Registration:
    user: users.User
    account: CreditAccount
    created: bool
    welcome_bonus: int  # coins granted by this call: the bonus the first time, then 0
    position: int


def register_user(store: EventStore, subject: str) -> Registration:
    user_id = users.user_id_for(subject)

    def attempt() -> Registration:
        user = users.replay(store.load(user_id))
        account = load_account(store, user_id)
        user_events = users.register(user, user_id)
        account_events = credits_rules.open_account(account, user_id)
        if not user_events and not account_events:
            assert user is not None
            assert account is not None
            return Registration(user, account, False, 0, position=store.head())
        position = store.append(*user_events, *account_events)
        user = fold(users.evolve, user_events, user)
        assert user is not None
        bonus = sum(e.welcome_bonus for e in account_events if isinstance(e, AccountOpened))
        return Registration(
            user, evolved(account, account_events), bool(user_events), bonus, position
        )

    return with_retries(store, attempt)
