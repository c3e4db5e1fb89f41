"""`/api/audit`: a user's ledger and its verification, for auditors only (others get 404).

`verify` is the one API read that looks at the event log itself: replaying the events is what
it is for. It compares them with the read model in one snapshot (see relivchats/audit.py).
"""

from __future__ import annotations

import logging
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query

from relivchats.api.contract import Offset, error_responses
from relivchats.api.dependencies import Auditor, ReadDb, wait_for_min_position
from relivchats.api.errors import ApiError
from relivchats.api.schemas.audit import Difference, Ledger, LedgerEntry, VerificationReport
from relivchats.audit import verify_account
from relivchats.domain.credits import account_id_for
from relivchats.projections.ledger_queries import transactions_page

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/audit", tags=["audit"])

NO_LEDGER = "this user has no ledger"
# 404 also answers a caller who is not an auditor: the audit surface gives no existence oracle.
AUDIT_ERRORS = error_responses(401, 404, 422, 503)


@router.get(
    "/users/{user_id}/ledger",
    response_model=Ledger,
    dependencies=[Depends(wait_for_min_position)],
    responses=AUDIT_ERRORS,
)
async def ledger(
    user_id: UUID,
    auditor: Auditor,
    db: ReadDb,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
    offset: Offset = 0,
) -> Ledger:
    """The user's ledger entries in event order, with the running balance after each."""
    _log_access(auditor.user_id, user_id, "ledger")
    account_id = account_id_for(user_id)
    page = await transactions_page(db, account_id, limit, offset, newest_first=False)
    if page is None:
        raise ApiError(404, NO_LEDGER)
    entries = [LedgerEntry(**{**dict(row), "type": row["kind"]}) for row in page.rows]
    return Ledger(
        user_id=user_id,
        account_id=account_id,
        entries=entries,
        total=page.total,
        limit=limit,
        offset=offset,
    )


@router.get(
    "/users/{user_id}/verify",
    response_model=VerificationReport,
    dependencies=[Depends(wait_for_min_position)],
    responses=AUDIT_ERRORS,
)
async def verify(user_id: UUID, auditor: Auditor, db: ReadDb) -> VerificationReport:
    """Replay the ledger from its events and compare it with the read model, field by field."""
    _log_access(auditor.user_id, user_id, "verify")
    async with db.connection() as conn:
        result = await verify_account(conn, account_id_for(user_id))
    if result.events == 0 and result.ok:
        raise ApiError(404, NO_LEDGER)
    return VerificationReport(
        user_id=user_id,
        account_id=result.account_id,
        ok=result.ok,
        events=result.events,
        checked_upto=result.checked_upto,
        balance=result.balance,
        held=result.held,
        differences=[Difference(**d.as_dict()) for d in result.differences],
    )


def _log_access(auditor: UUID, user_id: UUID, what: str) -> None:
    log.info(
        "audit read",
        extra={"auditor_id": str(auditor), "audited_user_id": str(user_id), "what": what},
    )
