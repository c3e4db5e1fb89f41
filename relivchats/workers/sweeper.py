"""The beat task that releases expired reservations, idempotently.

The read model only nominates candidates (open reservations past their expiry, found through a
partial index); each account is then loaded from its events, decided by `expire_due` and
appended like any command. A reservation the read model still shows open but that was already
captured or released is simply not due in the loaded state, and two sweepers racing on one
account meet at the event store's version check: the loser reloads and finds nothing left to
release. Running the sweep twice, or on two workers at once, therefore releases once. A released
reservation that paid for an insight job marks the job expired in the same save.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg

from relivchats.adapters.eventstore import EventStore
from relivchats.commands.insight_outcomes import expire_due
from relivchats.commands.unit_of_work import execute
from relivchats.domain.errors import DomainError
from relivchats.domain.events import now
from relivchats.projections.ledger_queries import DUE_ACCOUNTS_SQL
from relivchats.settings import get_settings
from relivchats.workers.app import SWEEP_TASK, celery_app, worker_store
from relivchats.workers.metrics import SWEEPER_RELEASED

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepResult:
    accounts: int
    released: int
    failed: int


def due_accounts(database_url: str, at: datetime, limit: int) -> list[UUID]:
    """Users holding a reservation that expired by `at`, most overdue first (one connection)."""
    with psycopg.connect(database_url, connect_timeout=5) as conn:
        return [row[0] for row in conn.execute(DUE_ACCOUNTS_SQL, (at, limit))]


def sweep(store: EventStore, database_url: str, at: datetime, limit: int) -> SweepResult:
    released = failed = 0
    users = due_accounts(database_url, at, limit)
    for user_id in users:
        try:
            released += len(execute(store, expire_due, user_id, at).recorded)
        except DomainError as error:  # one busy account must not stop the sweep
            failed += 1
            log.warning(
                "sweep skipped an account", extra={"user_id": str(user_id), "error": error.code}
            )
    result = SweepResult(accounts=len(users), released=released, failed=failed)
    SWEEPER_RELEASED.inc(released)
    if users:
        log.info("expired reservations swept", extra=asdict(result))
    return result


@celery_app.task(name=SWEEP_TASK)  # type: ignore[untyped-decorator]
def sweep_expired_reservations() -> dict[str, Any]:
    settings = get_settings()
    result = sweep(worker_store(), settings.database_url, now(), settings.reservation_sweep_batch)
    return asdict(result)
