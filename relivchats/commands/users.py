"""Registering the caller as a user: idempotent, one live account per token subject.

Registration opens the user's credit account in the same append. After a deletion the subject
registers again as a new, empty account (its next generation, domain/users.py). The welcome
bonus goes with the subject's first account only: that account's id is uuid5 of the subject and
its `AccountOpened` is version 1 of a stream keyed by it, so the event store's unique key grants
the bonus once per subject, ever; every later generation opens with 0 coins.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from relivchats.adapters.eventstore import EventStore
from relivchats.commands.credits import evolved, load_account
from relivchats.commands.retry import with_retries
from relivchats.domain import credits_rules, users
from relivchats.domain.credits import AccountOpened, CreditAccount
from relivchats.domain.events import fold
from relivchats.domain.users import FIRST_GENERATION


@dataclass(frozen=True)
class Registration:
    user: users.User
    account: CreditAccount
    created: bool
    welcome_bonus: int  # coins granted by this call: the bonus the first time, then 0
    position: int


def _live_or_next(store: EventStore, subject_key: UUID) -> tuple[users.User | None, int]:
    """The subject's live account, or the generation its next account will have."""
    generation = FIRST_GENERATION
    while True:
        user = users.replay(store.load(users.user_id_for_key(subject_key, generation)))
        if user is None or not user.is_deleted:
            return user, generation
        generation += 1


def register_user(store: EventStore, subject: str) -> Registration:
    subject_key = users.subject_key_for(subject)

    def attempt() -> Registration:
        user, generation = _live_or_next(store, subject_key)
        user_id = users.user_id_for_key(subject_key, generation)
        account = load_account(store, user_id)
        user_events = users.register(user, subject_key, generation)
        bonus = credits_rules.WELCOME_BONUS if generation == FIRST_GENERATION else 0
        account_events = credits_rules.open_account(account, user_id, welcome_bonus=bonus)
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
