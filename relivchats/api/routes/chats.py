"""`/api/chats`: upload an export, read its statistics and messages, rename, share, delete.

Reads start from the caller's `chats` read row (`OwnedChat`: 404 for a missing, deleted or
someone else's chat), then open the sealed content it names. Writes go through the chat's
events, which check ownership themselves, and answer with the state they decided plus
`position`. A delete answers once the read model has dropped the chat, so from then on every
read, the public share included, finds nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Annotated, Any
from uuid import UUID

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request, Response
from starlette.convertors import StringConvertor, register_url_convertor

from relivchats.adapters.chat_content import message_page, statistics_json
from relivchats.api.caching import NOT_MODIFIED, REVALIDATE, cached_json
from relivchats.api.contract import WRITTEN, error_responses, link, linked, replayed
from relivchats.api.dependencies import (
    Cipher,
    CurrentUser,
    IdempotencyKey,
    OwnedChat,
    ReadDb,
    Store,
    Uploads,
    rate_limited,
    wait_for_min_position,
    wait_until_projected,
)
from relivchats.api.errors import ApiError
from relivchats.api.metrics import count_unreadable_export
from relivchats.api.schemas.chats import (
    CURSOR_PATTERN,
    ChatDeletedResponse,
    ChatDetail,
    ChatList,
    ChatShareResponse,
    ChatUnshareResponse,
    ChatWritten,
    DisplayNameRequest,
    MessagePage,
    PublicStatistics,
    VectorStatus,
    decode_cursor,
    encode_cursor,
    message_view,
    summary_of_chat,
    summary_of_row,
    vector_status_of,
)
from relivchats.api.switches import require_feature
from relivchats.api.uploads import UPLOAD_REQUEST_BODY, read_uploaded_file
from relivchats.commands import chats as commands
from relivchats.commands.chat_upload import upload_chat
from relivchats.commands.unit_of_work import dispatch
from relivchats.domain.uploads import UnknownChatLayout
from relivchats.projections import chat_queries

router = APIRouter(prefix="/api/chats", tags=["chats"])
READ = [Depends(wait_for_min_position)]
CHATS_PROJECTION = ["chats"]
OWN_CHAT_ERRORS = error_responses(401, 404, 422, 503)
_NEW_CHAT = "$response.body#/chat/chat_id"
_CHAT = "/api/chats/{chat_id}"
UPLOAD_LINKS = linked(
    201,
    ReadChat=link("GET", _CHAT, chat_id=_NEW_CHAT, min_position=WRITTEN),
    ReadMessages=link("GET", f"{_CHAT}/messages", chat_id=_NEW_CHAT, min_position=WRITTEN),
    ReadVectorStatus=link("GET", f"{_CHAT}/vector-status", chat_id=_NEW_CHAT),
    ReadInsights=link("GET", "/api/insights/chats/{chat_id}", chat_id=_NEW_CHAT),
    Rename=link("PUT", f"{_CHAT}/display-name", chat_id=_NEW_CHAT),
    Share=link("POST", f"{_CHAT}/share", chat_id=_NEW_CHAT),
    Unshare=link("DELETE", f"{_CHAT}/share", chat_id=_NEW_CHAT),
    Delete=link("DELETE", _CHAT, chat_id=_NEW_CHAT),
)
SHARE_LINKS = linked(
    201,
    ReadShared=link(
        "GET",
        "/api/chats/public/{share_token}/stats",
        share_token="$response.body#/share_token",  # noqa: S106 (an expression, not a secret)
        min_position=WRITTEN,
    ),
)


class _ChatIdSegment(StringConvertor):
    """Any path segment but "upload", the collection's action: so `GET /api/chats/upload` is a
    405 naming POST, not a read of a chat whose id "upload" is invalid (422)."""

    regex = "(?!upload$)[^/]+"


register_url_convertor("chat_id", _ChatIdSegment())
# FastAPI still validates the segment as a UUID (422 when it is not one).
ONE_CHAT = "/{chat_id:chat_id}"

Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[
    str, Query(pattern=CURSOR_PATTERN, description="next_cursor of the previous page, if any")
]
ShareToken = Annotated[str, Path(min_length=32, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@router.post(
    "/upload",
    response_model=ChatWritten,
    status_code=201,
    dependencies=[
        require_feature("uploads"),
        Depends(rate_limited("upload", lambda settings: settings.rate_limit_upload)),
    ],
    openapi_extra={"requestBody": UPLOAD_REQUEST_BODY},
    responses={
        **error_responses(401, 409, 413, 415, 422, 503, rate_limit="rate_limit_upload"),
        **replayed(ChatWritten),
        **UPLOAD_LINKS,
    },
)
async def upload(
    request: Request,
    response: Response,
    user: CurrentUser,
    store: Store,
    cipher: Cipher,
    pool: Uploads,
    idempotency_key: IdempotencyKey = None,
) -> ChatWritten:
    data = await read_uploaded_file(request)
    try:
        uploaded = await upload_chat(store, pool, cipher, user.user_id, data, idempotency_key)
    except UnknownChatLayout as refusal:
        count_unreadable_export(refusal.details["signature"])  # so support sees what to add
        raise
    response.status_code = 201 if uploaded.changed else 200
    return ChatWritten(
        chat=summary_of_chat(uploaded.chat), created=uploaded.changed, position=uploaded.position
    )


@router.get(
    "", response_model=ChatList, dependencies=READ, responses=error_responses(401, 422, 503)
)
async def list_chats(
    user: CurrentUser, db: ReadDb, limit: Limit = 50, cursor: Cursor = ""
) -> ChatList:
    before = decode_cursor(cursor)
    rows = await chat_queries.chats_of(db, user.user_id, before, limit + 1)
    page = rows[:limit]
    more = len(rows) > limit
    return ChatList(
        items=[summary_of_row(row) for row in page],
        next_cursor=encode_cursor(page[-1]["uploaded_position"]) if more else None,
    )


@router.get(ONE_CHAT, response_model=ChatDetail, dependencies=READ, responses=OWN_CHAT_ERRORS)
async def get_chat(chat: OwnedChat, db: ReadDb, cipher: Cipher) -> ChatDetail:
    return ChatDetail(
        **summary_of_row(chat).model_dump(), statistics=await _statistics(db, cipher, chat)
    )


@router.get(
    "/{chat_id}/messages", response_model=MessagePage, dependencies=READ, responses=OWN_CHAT_ERRORS
)
async def messages(
    chat: OwnedChat, db: ReadDb, cipher: Cipher, limit: Limit = 50, cursor: Cursor = ""
) -> MessagePage:
    after = decode_cursor(cursor)
    async with db.connection() as conn:
        page = await message_page(
            conn, cipher, chat["chat_id"], chat["content_id"], -1 if after is None else after, limit
        )
    last_seq = chat["message_count"] - 1
    return MessagePage(
        items=[message_view(message, chat["participants"]) for message in page],
        next_cursor=encode_cursor(page[-1].seq) if page and page[-1].seq < last_seq else None,
    )


@router.get(
    "/{chat_id}/vector-status",
    response_model=VectorStatus,
    dependencies=READ,
    responses=OWN_CHAT_ERRORS,
)
async def vector_status(chat: OwnedChat) -> VectorStatus:
    return vector_status_of(chat)


@router.put(
    "/{chat_id}/display-name",
    response_model=ChatWritten,
    responses=error_responses(400, 401, 404, 422, 503),
)
async def set_display_name(
    chat_id: UUID, body: DisplayNameRequest, user: CurrentUser, store: Store
) -> ChatWritten:
    change = await dispatch(
        store, commands.set_display_name, chat_id, user.user_id, body.me_participant, body.title
    )
    return ChatWritten(chat=summary_of_chat(change.chat), created=False, position=change.position)


@router.delete(ONE_CHAT, response_model=ChatDeletedResponse, responses=OWN_CHAT_ERRORS)
async def delete_chat(
    chat_id: UUID, user: CurrentUser, store: Store, request: Request, response: Response
) -> ChatDeletedResponse:
    change = await dispatch(store, commands.delete_chat, chat_id, user.user_id)
    await wait_until_projected(request, response, CHATS_PROJECTION, change.position)
    return ChatDeletedResponse(chat_id=chat_id, deleted=True, position=change.position)


@router.post(
    "/{chat_id}/share",
    response_model=ChatShareResponse,
    status_code=201,
    responses={**OWN_CHAT_ERRORS, **SHARE_LINKS},
)
async def share_chat(chat_id: UUID, user: CurrentUser, store: Store) -> ChatShareResponse:
    token = secrets.token_urlsafe(32)
    change = await dispatch(store, commands.share_chat, chat_id, user.user_id, _token_hash(token))
    return ChatShareResponse(
        share_token=token,
        public_stats_path=f"/api/chats/public/{token}/stats",
        position=change.position,
    )


@router.delete("/{chat_id}/share", response_model=ChatUnshareResponse, responses=OWN_CHAT_ERRORS)
async def unshare_chat(chat_id: UUID, user: CurrentUser, store: Store) -> ChatUnshareResponse:
    change = await dispatch(store, commands.unshare_chat, chat_id, user.user_id)
    return ChatUnshareResponse(shared=False, position=change.position)


@router.get(
    "/public/{share_token}/stats",
    response_model=PublicStatistics,
    dependencies=READ,
    responses={**error_responses(404, 422, 503), **NOT_MODIFIED},
)
async def public_statistics(
    request: Request, share_token: ShareToken, db: ReadDb, cipher: Cipher
) -> Response:
    """A shared chat's statistics, for anyone with the link (ETag; revalidated every time)."""
    chat = await chat_queries.shared_chat(db, _token_hash(share_token))
    if chat is None:
        raise ApiError(404, "this share link does not exist or was revoked", code="share_not_found")
    shown = PublicStatistics(
        title=chat["title"],
        participants=chat["participants"],
        is_group=chat["is_group"],
        message_count=chat["message_count"],
        statistics=await _statistics(db, cipher, chat),
    )
    return cached_json(request, PublicStatistics, shown, REVALIDATE)


async def _statistics(db: ReadDb, cipher: Cipher, chat: Any) -> dict[str, Any]:
    async with db.connection() as conn:
        opened = await statistics_json(conn, cipher, chat["chat_id"], chat["content_id"])
    if opened is None:  # a live chat's content was written before its event: a bug if gone
        raise RuntimeError(f"statistics missing for live chat {chat['chat_id']}")
    statistics: dict[str, Any] = orjson.loads(opened)
    return statistics
