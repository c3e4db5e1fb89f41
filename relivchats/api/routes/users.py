"""`/api/users`: register the caller (idempotent) and read their profile."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field

from relivchats.api.contract import WRITTEN, error_responses, link, linked, replayed
from relivchats.api.dependencies import CurrentUser, ReadDb, Store, wait_for_min_position
from relivchats.api.errors import ApiError
from relivchats.commands.unit_of_work import dispatch
from relivchats.commands.users import register_user
from relivchats.domain.credits import account_id_for

router = APIRouter(prefix="/api/users", tags=["users"])


class StoredUser(BaseModel):
    user_id: UUID
    created: bool
    registered_at: datetime
    welcome_bonus: int = Field(description="coins granted by this call: 50 the first time, else 0")
    balance: int
    available: int
    position: int


class Me(BaseModel):
    user_id: UUID
    email: str | None
    name: str | None
    registered_at: datetime
    balance: int | None = Field(description="null until the ledger read model has the account")
    held: int | None
    available: int | None


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
    response.status_code = 201 if registration.created else 200
    return StoredUser(
        user_id=registration.user.id,
        created=registration.created,
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
    row = await db.fetchrow(
        "SELECT u.registered_at, b.balance, b.held, b.available FROM users u"
        " LEFT JOIN credit_balances b ON b.account_id = $2"
        " WHERE u.user_id = $1 AND u.deletion_requested_at IS NULL",
        user.user_id,
        account_id_for(user.user_id),
    )
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
