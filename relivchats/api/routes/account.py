"""`/api/users`: leave (`DELETE /delete-account`) and the right of access (`GET /me/export`).

Deleting answers once the users, chats and ledger read models hold the deletion: from then on
every request with a token of the account answers 401 `account_deleted`, and none of its data
can be read. The export is everything held about the caller (relivchats/account_export.py).
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, Request, Response

from relivchats.account_export import as_json, export_account
from relivchats.api.contract import error_responses
from relivchats.api.dependencies import (
    Accounts,
    AppSettings,
    Cipher,
    CurrentUser,
    ReadDb,
    Store,
    rate_limited,
    wait_for_min_position,
    wait_until_projected,
)
from relivchats.api.errors import ApiError
from relivchats.api.schemas.users import AccountDeleted, AccountExport
from relivchats.commands.account_deletion import delete_account
from relivchats.projections import chat_queries

router = APIRouter(prefix="/api/users", tags=["users"])

DELETION_READ_MODELS = ["users", "chats", "ledger"]


@router.delete(
    "/delete-account",
    response_model=AccountDeleted,
    responses=error_responses(401, 404, 503),
)
async def delete_my_account(
    user: CurrentUser,
    store: Store,
    db: ReadDb,
    settings: AppSettings,
    accounts: Accounts,
    request: Request,
    response: Response,
) -> AccountDeleted:
    chat_ids = await chat_queries.chat_ids_of(db, user.user_id)
    grace = timedelta(days=settings.account_erasure_grace_days)
    # Several commands in turn (commands/account_deletion.py), on the store's thread pool.
    deletion = await store.run(
        delete_account, store.store, user.user_id, user.subject, chat_ids, grace
    )
    await wait_until_projected(request, response, DELETION_READ_MODELS, deletion.position)
    accounts.forget(user.subject_key)  # here at once; other processes when notified
    return AccountDeleted(
        user_id=deletion.user_id,
        deleted=deletion.requested,
        deleted_at=deletion.deleted_at,
        erasure_due_at=deletion.erasure_due_at,
        chats_deleted=deletion.chats_deleted,
        reservations_released=deletion.reservations_released,
        position=deletion.position,
    )


@router.get(
    "/me/export",
    response_model=AccountExport,
    dependencies=[
        Depends(rate_limited("export", lambda settings: settings.rate_limit_export)),
        Depends(wait_for_min_position),
    ],
    responses=error_responses(401, 404, 422, 503, rate_limit="rate_limit_export"),
)
async def export_my_data(user: CurrentUser, db: ReadDb, cipher: Cipher) -> Response:
    async with db.connection() as conn:
        export = await export_account(conn, cipher, user.user_id)
    if export is None:
        raise ApiError(404, "no account yet: call POST /api/users/store first")
    return Response(
        as_json(export),
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="relivchats-export.json"'},
    )
