"""The newest account of each token subject, remembered per API process (P1).

Authentication must refuse the token of a deleted account (domain/users.account_for_token),
which needs the subject's newest account in the users read model. Looking it up cost a pool
round trip on every request; this remembers it instead, and forgets it when PostgreSQL says the
users projection registered or deleted an account of that subject (`ACCOUNTS_CHANGED`, notified
in the projection's transaction: projections/users.py).

Every API process listens on a connection of its own, so a deletion reaches all of them when it
is projected, which is before `DELETE /api/users/delete-account` answers (it waits for that
projection); the process that deleted also forgets at once, without waiting for the notice. What
keeps that true when something fails:

- nothing is remembered while the listening connection is down: requests look up, as before;
- everything is forgotten when it listens again (a notice may have been missed meanwhile);
- a lookup that overlapped any notice is not remembered (it may predate the change);
- the connection is probed every `PROBE_S` (one that died silently fails the probe), and the
  memory is emptied every `REFRESH_S` whatever happens.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any
from uuid import UUID

import asyncpg

from relivchats.adapters.database import ReadPool
from relivchats.domain.users import LatestAccount
from relivchats.projections import user_queries
from relivchats.projections.users import ACCOUNTS_CHANGED

log = logging.getLogger(__name__)

PROBE_S = 5.0
PROBE_TIMEOUT_S = 2.0
RETRY_S = 1.0
REFRESH_S = 300.0
MAX_SUBJECTS = 100_000


class ActingAccounts:
    def __init__(self, pool: ReadPool, max_subjects: int = MAX_SUBJECTS):
        self._pool = pool
        self._max_subjects = max_subjects
        self._known: dict[UUID, LatestAccount | None] = {}
        self._changes = 0  # counts forgets: a lookup that overlapped one is not remembered
        self._listening = False

    @property
    def listening(self) -> bool:
        return self._listening

    async def latest(self, subject_key: UUID) -> LatestAccount | None:
        """The subject's newest account as the users read model holds it (None: none yet)."""
        try:
            return self._known[subject_key]
        except KeyError:
            pass
        changes = self._changes
        latest = await user_queries.latest_account(self._pool, subject_key)
        if self._listening and changes == self._changes:
            if len(self._known) >= self._max_subjects:
                del self._known[next(iter(self._known))]
            self._known[subject_key] = latest
        return latest

    def forget(self, subject_key: UUID) -> None:
        self._changes += 1
        self._known.pop(subject_key, None)

    def forget_all(self) -> None:
        self._changes += 1
        self._known.clear()

    async def listen(self, dsn: str) -> asyncpg.Connection:
        """Start listening (raises if PostgreSQL cannot be reached); `keep_listening` goes on."""
        conn = await asyncpg.connect(dsn)
        try:
            await conn.add_listener(ACCOUNTS_CHANGED, self._notified)
        except BaseException:
            await conn.close()
            raise
        conn.add_termination_listener(self._lost)
        self.forget_all()
        self._listening = True
        return conn

    async def keep_listening(self, dsn: str, conn: asyncpg.Connection | None = None) -> None:
        """Probe the listening connection and listen again after losing it, until cancelled."""
        refreshed = time.monotonic()
        while True:
            try:
                conn = conn or await self.listen(dsn)
                await asyncio.sleep(PROBE_S)
                await conn.fetchval("SELECT 1", timeout=PROBE_TIMEOUT_S)
            except Exception as error:  # whatever it was, this process must not trust its memory
                log.warning(
                    "not listening for account changes: every request looks up",
                    extra={"error": type(error).__name__},
                )
                await self._close(conn)
                conn = None
                await asyncio.sleep(RETRY_S)
            except asyncio.CancelledError:
                await self._close(conn)
                raise
            if time.monotonic() - refreshed > REFRESH_S:
                self.forget_all()
                refreshed = time.monotonic()

    def _notified(self, _conn: Any, _pid: int, _channel: str, subject_key: str) -> None:
        try:
            self.forget(UUID(subject_key))
        except ValueError:
            self.forget_all()

    def _lost(self, _conn: Any) -> None:
        self._listening = False
        self.forget_all()

    async def _close(self, conn: asyncpg.Connection | None) -> None:
        self._lost(conn)
        if conn is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), PROBE_TIMEOUT_S)
