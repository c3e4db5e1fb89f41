"""`/api/users`: register the caller (idempotent) and read their profile."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel

from relivchats.api.dependencies import CurrentUser, ReadDb, Store, wait_for_min_position
from relivchats.api.errors import ApiError
from relivchats.commands.users import register_user

router = APIRouter(prefix="/api/users", tags=["users"])


class StoredUser(BaseModel):
    user_id: UUID
    created: bool
    registered_at: datetime
    position: int


class Me(BaseModel):
    user_id: UUID
    email: str | None
    name: str | None
    registered_at: datetime


@router.post("/store", response_model=StoredUser)
async def store_user(user: CurrentUser, store: Store, response: Response) -> StoredUser:
    registration = await store.command(register_user, user.subject)
    response.status_code = 201 if registration.created else 200
    return StoredUser(
        user_id=registration.user.id,
        created=registration.created,
        registered_at=registration.user.registered_at,
        position=registration.position,
    )


@router.get("/me", response_model=Me, dependencies=[Depends(wait_for_min_position)])
async def me(user: CurrentUser, db: ReadDb) -> Me:
    row = await db.fetchrow(
        "SELECT registered_at FROM users WHERE user_id = $1 AND deletion_requested_at IS NULL",
        user.user_id,
    )
    if row is None:
        raise ApiError(404, "no account yet: call POST /api/users/store first")
    return Me(
        user_id=user.user_id, email=user.email, name=user.name, registered_at=row["registered_at"]
    )
