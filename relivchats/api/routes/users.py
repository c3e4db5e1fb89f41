"""`/api/users`: register the caller (idempotent) and read their profile."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from relivchats.api.contract import WRITTEN, error_responses, link, linked, replayed
from relivchats.api.dependencies import CurrentUser, ReadDb, Store, wait_for_min_position
from relivchats.api.errors import ApiError
from relivchats.api.schemas.users import Me, StoredUser
from relivchats.commands.unit_of_work import dispatch
from relivchats.commands.users import register_user
from relivchats.projections.user_queries import user_with_balance

router = APIRouter(prefix="/api/users", tags=["users"])


@router.post(
    "/store",
    response_model=StoredUser,
    status_code=201,
    responses={
        **error_responses(401, 503),
        **replayed(StoredUser, "already registered: the account as it is"),
        **linked(
            201,
            ReadMe=link("GET", "/api/users/me", min_position=WRITTEN),
            ReadBalance=link("GET", "/api/credits/balance", min_position=WRITTEN),
            ReadTransactions=link("GET", "/api/credits/transactions", min_position=WRITTEN),
            AuditLedger=link(
                "GET", "/api/audit/users/{user_id}/ledger", user_id="$response.body#/user_id"
            ),
        ),
    },
)
async def store_user(user: CurrentUser, store: Store, response: Response) -> StoredUser:
    registration = await dispatch(store, register_user, user.subject)
    response.status_code = 201 if registration.changed else 200
    return StoredUser(
        user_id=registration.user.id,
        created=registration.changed,
        registered_at=registration.user.registered_at,
        welcome_bonus=registration.welcome_bonus,
        balance=registration.account.balance,
        available=registration.account.available,
        position=registration.position,
    )


@router.get(
    "/me",
    response_model=Me,
    dependencies=[Depends(wait_for_min_position)],
    responses=error_responses(401, 404, 422, 503),
)
async def me(user: CurrentUser, db: ReadDb) -> Me:
    row = await user_with_balance(db, user.user_id)
    if row is None:
        raise ApiError(404, "no account yet: call POST /api/users/store first")
    return Me(
        user_id=user.user_id,
        email=user.email,
        name=user.name,
        registered_at=row["registered_at"],
        balance=row["balance"],
        held=row["held"],
        available=row["available"],
    )
