"""Beat's erasure of accounts whose grace period is over, and telling the identity provider.

`maintenance.erase_due_accounts` takes the users read model's due accounts (oldest first, a
batch per run; the next run takes the rest) and erases each (commands/erasure.py), which decides
again on the account's events, so a lagging read model can never erase early.
`maintenance.tell_identity_provider` is sent by the dispatcher on `UserDeletionRequested`: it
opens the sealed subject from the event and asks the provider to forget it, retrying while the
provider is unavailable. After the erasure the subject can no longer be opened: nothing is told.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import psycopg

from relivchats.adapters.eventstore import EventStore
from relivchats.adapters.identity_admin import IdentityAdminUnavailable, identity_admin_from
from relivchats.commands.erasure import erase_account
from relivchats.domain.errors import DomainError
from relivchats.domain.users import UserDeletionRequested
from relivchats.projections.user_queries import ERASURE_DUE_SQL
from relivchats.settings import get_settings
from relivchats.workers.app import (
    ERASE_TASK,
    TELL_IDENTITY_PROVIDER_TASK,
    celery_app,
    worker_store,
)

log = logging.getLogger(__name__)
TELL_ATTEMPTS = 10


def erase_due(store: EventStore, database_url: str, batch: int) -> dict[str, int]:
    with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as conn:
        due = [row[0] for row in conn.execute(ERASURE_DUE_SQL, (batch,)).fetchall()]
    erased = failed = 0
    for user_id in due:
        try:
            result = erase_account(
                store, database_url, user_id, datetime.now(tz=UTC), skip_grace=False
            )
            erased += result.erased
            log.info("account erased", extra={**asdict(result), "user_id": str(user_id)})
        except DomainError as error:  # one account must not stop the run
            failed += 1
            log.warning("erasure skipped", extra={"user_id": str(user_id), "error": error.code})
    return {"due": len(due), "erased": erased, "failed": failed}


@celery_app.task(name=ERASE_TASK)  # type: ignore[untyped-decorator]
def erase_due_accounts() -> dict[str, int]:
    settings = get_settings()
    return erase_due(worker_store(), settings.database_url, settings.erasure_sweep_batch)


def subject_to_forget(user_id: UUID) -> str | None:
    """The deleted account's subject, opened from its event; None once erased (or unknown)."""
    for event in worker_store().load(user_id):
        if isinstance(event, UserDeletionRequested):
            return event.subject
    return None


@celery_app.task(  # type: ignore[untyped-decorator]
    name=TELL_IDENTITY_PROVIDER_TASK,
    autoretry_for=(IdentityAdminUnavailable,),
    retry_backoff=5,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=TELL_ATTEMPTS,
)
def tell_identity_provider(user_id: str) -> dict[str, Any]:
    admin = identity_admin_from(get_settings())
    subject = subject_to_forget(UUID(user_id)) if admin else None
    if admin is None or subject is None:
        return {"told": False}
    admin.forget(subject)
    log.info("identity provider told to forget a deleted account", extra={"user_id": user_id})
    return {"told": True}
