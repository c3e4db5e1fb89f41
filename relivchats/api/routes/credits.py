"""`/api/credits`: the caller's coin balance, their ledger entries, and the coin packages."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import asyncpg
from fastapi import APIRouter, Query, Request, Response

from relivchats.adapters.database import ReadPool
from relivchats.api.caching import NOT_MODIFIED, REFERENCE_DATA, cached_json
from relivchats.api.contract import Offset, error_responses
from relivchats.api.dependencies import CurrentUser, ReadModels, current_user, read_models
from relivchats.api.direct import DirectRoute, answered_by, solved_headers
from relivchats.api.errors import ApiError
from relivchats.api.schemas.credits import Balance, CoinPackage, Transaction, TransactionPage
from relivchats.domain.credits import account_id_for
from relivchats.projections.catalogue_queries import active_packages
from relivchats.projections.ledger_queries import balance_of, transactions_page

router = APIRouter(prefix="/api/credits", tags=["credits"], route_class=DirectRoute)

NO_ACCOUNT = "no credit account yet: call POST /api/users/store first"


async def _balance_directly(request: Request) -> Response:
    """`balance` with its dependencies called in the order declared, without the solver."""
    headers = solved_headers()
    db = await read_models(request, headers)
    answer = await balance(db, await current_user(request))
    answer.headers.raw.extend(headers.headers.raw)
    return answer


@router.get(
    "/balance",
    response_model=Balance,
    responses=error_responses(401, 404, 422, 503),
)
@answered_by(_balance_directly, calling=(read_models, current_user))
async def balance(db: ReadModels, user: CurrentUser) -> Response:
    row = await balance_of(db, account_id_for(user.user_id))
    if row is None:
        raise ApiError(404, NO_ACCOUNT)
    shown = Balance(
        balance=row["balance"], held=row["held"], available=row["available"], flagged=row["flagged"]
    )
    # The hottest read: serialised once, by the model itself, instead of FastAPI validating
    # the returned model against `response_model` again and encoding it a second time (P1).
    return Response(shown.model_dump_json(), media_type="application/json")


@router.get(
    "/transactions",
    response_model=TransactionPage,
    responses=error_responses(401, 404, 422, 503),
)
async def transactions(
    db: ReadModels,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Offset = 0,
) -> TransactionPage:
    """Ledger entries, newest first, with the total count."""
    page = await transactions_page(db, account_id_for(user.user_id), limit, offset)
    if page is None:
        raise ApiError(404, NO_ACCOUNT)
    following = offset + len(page.rows)
    return TransactionPage(
        items=[_transaction(row) for row in page.rows],
        total=page.total,
        limit=limit,
        offset=offset,
        next_offset=following if following < page.total else None,
    )


@router.get(
    "/packages",
    response_model=list[CoinPackage],
    responses={**error_responses(422, 503), **NOT_MODIFIED},
)
async def packages(request: Request, db: ReadModels) -> Response:
    """The coin packages on sale (reference data: ETag, 5 min cache)."""
    return cached_json(request, list[CoinPackage], await _packages(db), REFERENCE_DATA)


async def _packages(db: ReadPool) -> list[CoinPackage]:
    return [
        CoinPackage(
            **dict(row),
            price_inr=Decimal(row["price_inr_paise"]).scaleb(-2),
            price_usd=Decimal(row["price_usd_cents"]).scaleb(-2),
        )
        for row in await active_packages(db)
    ]


def _transaction(row: asyncpg.Record) -> Transaction:
    return Transaction(
        sequence=row["version"],
        type=row["kind"],
        amount=row["amount"],
        held_change=row["held_change"],
        balance_after=row["balance_after"],
        available_after=row["available_after"],
        reference_id=row["reference_id"],
        job_id=row["job_id"],
        description=row["description"],
        created_at=row["occurred_at"],
    )
