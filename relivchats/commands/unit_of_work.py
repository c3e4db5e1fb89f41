"""The unit of work: the one way a command changes state.

A command handler is a function `handler(uow, *args) -> result` that reads as load → decide →
save: it loads what it needs through the unit (`load`, `account`), calls one pure decide
function of the domain, records its events (`record`) and saves them (`save`), then shapes its
answer from what the unit saw. `execute(store, handler, *args)` runs it; everything around the
decision lives here, once:

- each aggregate is loaded once per attempt, and after `record`/`save` the unit answers it as
  the recorded events left it;
- every new event of every aggregate touched is saved in ONE atomic append;
- accounts follow one policy (`account`): decide on this process's cached account, taking turns
  per account with the process's other commands. A decision that appends to a cached account
  is checked by the store (a stale account's next version is taken: a conflict); any other
  outcome decided on the cache (a refusal, a no-op, a save that leaves the account alone) is
  first checked against the log (one read of what followed the cached version, usually
  nothing) and decided again on the caught-up account if the account had moved
  (see adapters/account_cache.py);
- a version conflict means another writer got there first: catch up and decide again, at most
  `store.command_max_attempts` times (more if the handler expects collisions), then `Busy`.
  Storage trouble is retried (bounded, counted) by the store beneath, and leaves as
  `StorageUnavailable` (503) without being tried again here, so an outage is answered in time;
- a true duplicate appends nothing, and the handler answers from the state the first command
  left: the unit reports `changed=False` and the log's head as the position.

The same unit runs on PostgreSQL (`EventStore`) and in memory (`InMemoryEventStore`), so
commands are tested without a database and only races and the store itself need PostgreSQL.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any, Concatenate, ParamSpec, TypeVar
from uuid import UUID

from prometheus_client import Counter

from relivchats.adapters.account_cache import AccountCache, account_cache
from relivchats.adapters.event_log import EventLog
from relivchats.adapters.eventstore import AsyncEventStore, VersionConflict
from relivchats.adapters.storage import backoff_s
from relivchats.domain import credits
from relivchats.domain.credits import CreditAccount
from relivchats.domain.errors import Busy, DomainError
from relivchats.domain.events import Event, fold

P = ParamSpec("P")
S = TypeVar("S")
T = TypeVar("T")

Evolve = Callable[[S | None, Event], S]

BASE_BACKOFF_S = 0.005
MAX_BACKOFF_S = 0.2

VERSION_CONFLICT_RETRIES = Counter(
    "relivchats_version_conflict_retries_total",
    "Commands reloaded and decided again because another writer appended first",
)


@dataclass(frozen=True)
class Saved:
    """What a save did: the events it appended (none for a repeat) and the log position."""

    events: tuple[Event, ...]
    position: int

    @property
    def changed(self) -> bool:
        return bool(self.events)


class StaleAccount(Exception):
    """A decision was made on a cached account that has moved since: decide again."""


class UnitOfWork:
    """One attempt of one command: what it loaded, what it recorded, whether it saved."""

    def __init__(self, store: EventLog, turns: Turns, catch_up: bool) -> None:
        self.store = store
        self.min_attempts = 0
        self._from_cache: set[UUID] = set()  # accounts decided on without catching up
        self._turns = turns
        self._catch_up = catch_up
        self._accounts = account_cache(store)
        self._loaded: dict[UUID, Any] = {}  # aggregate id -> state when loaded
        self._preloaded: dict[UUID, list[Event]] = {}  # read ahead, not loaded yet
        self._seen: dict[UUID, tuple[int, Any]] = {}  # -> (recorded events folded, state)
        self._account_ids: set[UUID] = set()
        self._new: list[Event] = []
        self._new_by_aggregate: dict[UUID, list[Event]] = {}  # a batch loads each per decision
        self._saved: Saved | None = None

    def load(self, aggregate_id: UUID, evolve: Evolve[S]) -> S | None:
        """The aggregate as this unit sees it: loaded once, plus the events recorded on it
        (each folded once: recording only adds events, so the state answered last is kept)."""
        if aggregate_id not in self._loaded:
            self._loaded[aggregate_id] = fold(evolve, self._stored_before_unit(aggregate_id))
        recorded = self._recorded_on(aggregate_id)
        folded, state = self._seen.get(aggregate_id, (0, self._loaded[aggregate_id]))
        if folded < len(recorded):
            state = fold(evolve, recorded[folded:], state)
            self._seen[aggregate_id] = (len(recorded), state)
        current: S | None = state
        return current

    def preload(self, aggregate_ids: Iterable[UUID], accounts_of: Iterable[UUID] = ()) -> None:
        """Read ahead, in one round trip, what a command deciding many things will `load`, and
        the accounts of `accounts_of` (users) that this process has not cached, into the cache
        the account policy decides on. Nothing else changes: loads just read nothing more."""
        cold_accounts = {
            account_id
            for account_id in map(credits.account_id_for, accounts_of)
            if account_id not in self._loaded and self._accounts.cached(account_id) is None
        }
        wanted = {*aggregate_ids, *cold_accounts} - self._loaded.keys() - self._preloaded.keys()
        if not wanted:
            return
        streams = self.store.load_many(wanted)
        for account_id in cold_accounts:
            account = fold(credits.evolve, streams.pop(account_id, []))
            if account is not None:
                self._accounts.remember(account)
        self._preloaded.update({i: streams.get(i, []) for i in wanted - cold_accounts})

    def account(self, user_id: UUID) -> CreditAccount | None:
        """The user's credit account, through the one account policy (module docstring)."""
        account_id = credits.account_id_for(user_id)
        if account_id not in self._loaded:
            self._turns.take(self._accounts, account_id)
            self._loaded[account_id] = self._account_to_decide_on(account_id)
            self._account_ids.add(account_id)
        return self.load(account_id, credits.evolve)

    def record(self, *events: Event) -> None:
        if self._saved is not None:
            raise RuntimeError("a unit of work saves once: record everything before save()")
        self._new.extend(events)
        for event in events:
            self._new_by_aggregate.setdefault(event.originator_id, []).append(event)

    def save(self) -> Saved:
        """Append everything recorded in one save (nothing for a repeat: the head instead)."""
        if self._saved is None:
            if self.decided_on_stale_account():
                raise StaleAccount()
            position = self.store.append(*self._new) if self._new else self.store.head()
            self._saved = Saved(tuple(self._new), position)
            self._remember_accounts()
        return self._saved

    def expect_collisions(self, attempts: int) -> None:
        """For commands that collide by design (a storm of one order's webhooks)."""
        self.min_attempts = max(self.min_attempts, attempts)

    def account_exists(self, user_id: UUID) -> bool:
        """Whether the user's account is opened (a cached account is: accounts never close)."""
        account_id = credits.account_id_for(user_id)
        if account_id not in self._loaded and self._accounts.cached(account_id) is not None:
            return True
        return self.account(user_id) is not None

    @property
    def unsaved(self) -> bool:
        return bool(self._new) and self._saved is None

    def decided_on_stale_account(self) -> bool:
        """Whether an account decided on from the cache, that no recorded event appends to (so
        the store will not check it), has moved since it was cached."""
        appended = {event.originator_id for event in self._new}
        unchecked = self._from_cache - appended
        return any(self._moved_since_cached(account_id) for account_id in unchecked)

    def _moved_since_cached(self, account_id: UUID) -> bool:
        cached: CreditAccount = self._loaded[account_id]
        current = self._accounts.caught_up(account_id, cached)
        return current is not None and current.version != cached.version

    def _account_to_decide_on(self, account_id: UUID) -> CreditAccount | None:
        cached = self._accounts.cached(account_id)
        if cached is None or self._catch_up:
            return self._accounts.caught_up(account_id, cached)
        self._from_cache.add(account_id)
        return cached

    def _recorded_on(self, aggregate_id: UUID) -> list[Event]:
        return self._new_by_aggregate.get(aggregate_id, [])

    def _stored_before_unit(self, aggregate_id: UUID) -> list[Event]:
        recorded = self._recorded_on(aggregate_id)
        if not recorded:
            return self._stored(aggregate_id)
        first_new = recorded[0].originator_version
        if first_new == 1:
            return []  # the aggregate starts in this unit
        return [e for e in self._stored(aggregate_id) if e.originator_version < first_new]

    def _stored(self, aggregate_id: UUID) -> list[Event]:
        preloaded = self._preloaded.pop(aggregate_id, None)
        return self.store.load(aggregate_id) if preloaded is None else preloaded

    def _remember_accounts(self) -> None:
        for account_id in self._account_ids & {event.originator_id for event in self._new}:
            account = self.load(account_id, credits.evolve)
            assert account is not None
            self._accounts.remember(account)


class Turns:
    """The account locks one command holds across its attempts, released when it ends.

    A command takes its first account's turn; a second account on another lock stripe is not
    waited for (two commands taking two locks in opposite orders would deadlock), and its
    correctness rests, as always, on the version check.
    """

    def __init__(self, stack: contextlib.ExitStack[bool | None]) -> None:
        self._stack = stack
        self._held: list[threading.Lock] = []

    def take(self, accounts: AccountCache, account_id: UUID) -> None:
        lock = accounts.exclusive(account_id)
        if lock in self._held or (self._held and not lock.acquire(blocking=False)):
            return
        if not self._held:
            lock.acquire()
        self._held.append(lock)
        self._stack.callback(lock.release)


def execute(
    store: EventLog,
    handler: Callable[Concatenate[UnitOfWork, P], T],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """Run `handler(uow, *args, **kwargs)` until it saves without a version conflict."""
    with contextlib.ExitStack() as stack:
        turns, catch_up, conflicts = Turns(stack), False, 0
        while True:
            uow = UnitOfWork(store, turns, catch_up)
            try:
                result = handler(uow, *args, **kwargs)
            except DomainError:
                if not uow.decided_on_stale_account():
                    raise
                catch_up = True  # refused on a stale account: decide again, caught up
                continue
            except StaleAccount:
                catch_up = True
                continue
            except VersionConflict:
                conflicts += 1
                _wait_or_give_up(conflicts, max(store.command_max_attempts, uow.min_attempts))
                catch_up = True
                continue
            if uow.unsaved:
                raise RuntimeError(f"{handler.__name__} recorded events but did not save them")
            return result


def _wait_or_give_up(conflicts: int, max_attempts: int) -> None:
    VERSION_CONFLICT_RETRIES.inc()
    if conflicts >= max_attempts:
        raise Busy("too many concurrent changes; please try again", attempts=max_attempts)
    time.sleep(backoff_s(conflicts, BASE_BACKOFF_S, cap_s=MAX_BACKOFF_S))


async def dispatch(
    store: AsyncEventStore,
    handler: Callable[Concatenate[UnitOfWork, P], T],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """`execute` on the store's thread pool, off the event loop (for the API)."""
    return await store.run(partial(execute, store.store, handler, *args, **kwargs))
